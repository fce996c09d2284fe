package io.compactml.jobs;

import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.eval.LatencyProbe;
import io.compactml.common.eval.MetricTally;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code evaluate}: quality, size and latency of a model on {@code data.eval}, as long-form rows in
 * {@code evaluations} (one per metric), replacing this run's earlier rows for the same model and data set.
 */
public final class EvaluateJob {
    private final JobContext ctx;

    public EvaluateJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The evaluated model and its metrics. */
    public record Result(String modelUri, String modelSha256, String dataset, Map<String, Double> metrics) {
    }

    public Result run() {
        String uri = ctx.modelUri();
        byte[] zip = ModelIO.readBytes(uri, ctx.hadoop());
        return evaluate(uri, zip, "baseline");
    }

    /** Evaluates model bytes already in hand (used by the demo and later by compression jobs). */
    public Result evaluate(String uri, byte[] zip, String technique) {
        MultiLayerNetwork net = ModelIO.fromBytes(zip, uri);
        String sha = ModelIO.sha256(zip);
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        Task task = ModelShapes.task(net);
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "eval");
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, 1);
        int batch = ctx.config().getInt("evaluate.batch-size");
        JavaRDD<DataSet> batches = SparkData.minibatches(data, inputs, outputs, task, batch).cache();
        try {
            long t0 = System.nanoTime();
            MetricTally<?> tally = DistributedEvaluator.evaluate(ctx.jsc(), zip, uri, batches, task, outputs,
                    Math.min(ctx.config().getInt("evaluate.top-k"), outputs));
            Console.out("inference pass: %,d examples in %.2f s", tally.count(), (System.nanoTime() - t0) / 1e9);
            Map<String, Double> metrics = new LinkedHashMap<>(tally.metrics());
            metrics.put("size_bytes", (double) zip.length);
            metrics.put("param_count", (double) net.numParams());
            metrics.put("nonzero_params", (double) ModelIO.nonzeroParams(net));
            DataSet sample = batches.first();
            metrics.putAll(LatencyProbe.measure(net, sample.getFeatures(), ctx.config().getInt("evaluate.latency-runs"),
                    ctx.config().getInt("evaluate.latency-batch-size")));
            writeMetrics(ctx, ctx.config().getString("model.name"), sha, technique, spec.name(), metrics);
            return new Result(uri, sha, spec.name(), metrics);
        } finally {
            batches.unpersist(false);
        }
    }

    /** Long-form rows in {@code evaluations}, replacing the run's rows for this model and data set. */
    static void writeMetrics(JobContext ctx, String model, String sha, String technique, String dataset,
                             Map<String, Double> metrics) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        metrics.forEach((k, v) -> rows.add(RowFactory.create(ctx.runId(), model, sha, technique, dataset, k, v, now)));
        ctx.tables().replace(Tables.Table.EVALUATIONS, rows, "run_id = " + Tables.literal(ctx.runId())
                + " AND model_name = " + Tables.literal(model) + " AND dataset = " + Tables.literal(dataset));
    }
}
