package io.compactml.jobs.eval;

import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.eval.LatencyProbe;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.EvaluationRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code evaluate}: quality, size and latency of a model on {@code data.eval}, as the runtime of
 * {@code evaluate.runtime} serves it (ONNX Runtime on its ONNX form by default), as long-form rows in
 * {@code evaluations} (one per metric), replacing this run's earlier rows for the same model and data set.
 */
public final class EvaluateJob {
    private final JobContext ctx;
    private final EvaluateSettings settings;

    public EvaluateJob(JobContext ctx) {
        this.ctx = ctx;
        this.settings = EvaluateSettings.from(ctx.config());
    }

    /** The evaluated model and its metrics. */
    public record Result(String modelUri, String modelSha256, String dataset, Map<String, Double> metrics) {}

    /**
     * What is evaluated: the name and sha256 its rows are recorded under, the size of the file that ships
     * (a compressed format's, not the DL4J zip's) and the technique that made it.
     */
    public record Subject(String modelName, String sha256, long sizeBytes, String technique) {}

    public Result run() {
        return evaluate(LoadedModel.read(ctx), "baseline");
    }

    /** Evaluates a float model already in hand, under its name. */
    public Result evaluate(LoadedModel model, String technique) {
        return evaluate(
                model.uri(),
                ModelFormat.DL4J_ZIP,
                model.zip(),
                new Subject(model.name(), model.sha256(), model.zip().length, technique),
                Map.of());
    }

    /**
     * Evaluates the model {@code file} of {@code format} as the configured runtime serves it, and records the
     * metrics, plus {@code extra}, under {@code subject}: quality over the executors, the counts of the network it
     * restores to, latency in the driver.
     */
    public Result evaluate(String uri, ModelFormat format, byte[] file, Subject subject, Map<String, Double> extra) {
        MultiLayerNetwork net = format.network(file, uri);
        Variant served = format.serving(file, uri, settings.runtime());
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "eval");
        JavaRDD<DataSet> batches = batches(net, spec).cache();
        try {
            long t0 = System.nanoTime();
            Map<String, Double> metrics = tally(served, net, batches);
            Console.out(
                    "inference pass (%s): %,d examples in %.2f s",
                    settings.runtime().id(), metrics.get("examples").longValue(), (System.nanoTime() - t0) / 1e9);
            metrics.put("size_bytes", (double) subject.sizeBytes());
            metrics.put("param_count", (double) net.numParams());
            metrics.put("nonzero_params", (double) ModelIO.nonzeroParams(net));
            metrics.putAll(latency(served, batches.first()));
            metrics.putAll(extra);
            record(ctx, subject, spec.name(), metrics);
            return new Result(uri, subject.sha256(), spec.name(), metrics);
        } finally {
            batches.unpersist(false);
        }
    }

    /** Quality metrics only (no latency, nothing recorded) of a float network, in the configured runtime. */
    public Map<String, Double> quality(MultiLayerNetwork net, String label) {
        Variant v = settings.runtime() == ServingRuntime.ONNXRUNTIME
                ? new Variant(label, Variant.Kind.ONNX, OnnxExport.of(net))
                : new Variant(label, Variant.Kind.FLOAT, ModelIO.toBytes(net));
        return tally(v, net, batches(net, DatasetSpec.from(ctx.config(), "eval")));
    }

    /** Latency of the served model in the driver: ONNX Runtime with {@code evaluate.latency-threads} threads. */
    private Map<String, Double> latency(Variant served, DataSet sample) {
        if (settings.latencyRuns() <= 0) {
            return Map.of();
        }
        if (served.kind() != Variant.Kind.ONNX) {
            Variant.Runner runner = served.load();
            return LatencyProbe.measure(
                    input -> () -> runner.output(input),
                    sample.getFeatures(),
                    settings.latencyRuns(),
                    settings.latencyBatchSize());
        }
        try (OnnxSession session = OnnxSession.of(served.payload(), settings.latencyThreads())) {
            return LatencyProbe.measure(
                    session::prepare, sample.getFeatures(), settings.latencyRuns(), settings.latencyBatchSize());
        }
    }

    private JavaRDD<DataSet> batches(MultiLayerNetwork net, DatasetSpec spec) {
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, net, 1);
        return SparkData.minibatches(
                data, inputs, ModelShapes.outputs(net), ModelShapes.task(net), settings.batchSize());
    }

    private Map<String, Double> tally(Variant v, MultiLayerNetwork net, JavaRDD<DataSet> batches) {
        int outputs = ModelShapes.outputs(net);
        Map<String, Double> m = new LinkedHashMap<>(VariantEvaluator.evaluate(
                        ctx.jsc(), List.of(v), batches, ModelShapes.task(net), outputs, settings.topK(outputs))
                .get(v.name()));
        m.remove("sqnr_db");
        return m;
    }

    /** Long-form rows in {@code evaluations}, replacing the run's rows for this model and data set. */
    public static void record(JobContext ctx, Subject subject, String dataset, Map<String, Double> metrics) {
        Timestamp now = Timestamp.from(Instant.now());
        List<EvaluationRow> rows = new ArrayList<>();
        metrics.forEach((k, v) -> rows.add(new EvaluationRow(
                ctx.runId(), subject.modelName(), subject.sha256(), subject.technique(), dataset, k, v, now)));
        ctx.tables()
                .replace(
                        Table.EVALUATIONS,
                        rows,
                        Scope.run(ctx.runId())
                                .and("model_name", subject.modelName())
                                .and("dataset", dataset));
    }
}
