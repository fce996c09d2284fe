package io.compactml.jobs.publish;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.PublishSettings;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxSignature;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code verify}: what a serving process does before it serves an artifact, plus a quality check. It reads the
 * manifest of {@code artifacts.root/<verify.model>/<verify.version>} (default: the version {@code LATEST}
 * names), checks every file's size and sha256 (a tampered file is refused), loads the model with the serving
 * loader of its format ({@link ModelFormat#load}), evaluates it on {@code data.eval} and compares the result
 * with the metrics in the manifest: equal when the evaluation saw as many examples as the manifest's, else within
 * {@code verify.tolerance} points (a quick check on a slice, {@code data.eval.limit}).
 */
public final class VerifyJob {
    private final JobContext ctx;

    public VerifyJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The artifact verified, the manifest's metrics and the fresh ones. */
    public record Result(String dir, Manifest manifest, Map<String, Double> metrics) {}

    public Result run() {
        PublishSettings s = PublishSettings.from(ctx.config());
        String model = s.verifyModel().isEmpty() ? ctx.locations().modelName() : s.verifyModel();
        String root = ctx.locations().artifactsRoot();
        ArtifactStore store = new ArtifactStore(root, ctx.hadoop());
        String version = s.verifyVersion().isEmpty()
                ? store.latest(model).orElseThrow(() -> Errors.nothingPublished(model, root))
                : s.verifyVersion();
        Manifest m = store.verify(model, version);
        String dir = store.dir(model, version);
        ModelFormat format = ModelFormat.byId(m.format(), dir);
        byte[] bytes = store.read(model, version, format.fileName());
        String source = dir + "/" + format.fileName();
        ServingRuntime runtime = EvaluateSettings.from(ctx.config()).runtime();
        // as a server loads it: the artifact's own model.onnx in ONNX Runtime, or the model file in DL4J
        Variant served = runtime == ServingRuntime.ONNXRUNTIME && m.onnx() != null
                ? new Variant(
                        dir + "/" + OnnxSignature.FILE,
                        Variant.Kind.ONNX,
                        store.read(model, version, OnnxSignature.FILE))
                : format.load(bytes, source);
        Map<String, Double> fresh = evaluate(served, format.network(bytes, source));
        // metrics measured in another runtime than this check's agree within the tolerance, not to the last bit
        boolean sameRuntime = runtime.id().equals(m.data().getOrDefault("runtime", ServingRuntime.DL4J.id()))
                && (runtime == ServingRuntime.DL4J || m.onnx() != null);
        compare(dir, m, fresh, s.tolerance(), sameRuntime);
        Console.out(
                "verified %s: %d file(s) match the manifest; %s on %,d examples (manifest %s on %,d)",
                dir,
                m.files().size(),
                Task.describe(fresh),
                fresh.get("examples").longValue(),
                Task.describe(m.metrics()),
                m.metrics().getOrDefault("examples", 0.0).longValue());
        return new Result(dir, m, fresh);
    }

    private Map<String, Double> evaluate(Variant variant, MultiLayerNetwork net) {
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        EvaluateSettings settings = EvaluateSettings.from(ctx.config());
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), "eval"), net, 1);
        JavaRDD<DataSet> batches =
                SparkData.minibatches(data, inputs, outputs, ModelShapes.task(net), settings.batchSize());
        return VariantEvaluator.evaluate(
                        ctx.jsc(), List.of(variant), batches, ModelShapes.task(net), outputs, settings.topK(outputs))
                .get(variant.name());
    }

    private static void compare(String dir, Manifest m, Map<String, Double> fresh, double tolerance, boolean exact) {
        String metric = m.metrics().containsKey("accuracy") ? "accuracy" : "mse";
        Double recorded = m.metrics().get(metric);
        if (recorded == null || !fresh.containsKey(metric)) {
            return;
        }
        boolean same = exact && fresh.get("examples").equals(m.metrics().get("examples"));
        double scale = metric.equals("accuracy") ? 100 : 1;
        double diff = Math.abs(fresh.get(metric) - recorded) * scale;
        double allowed = same ? 1e-6 : tolerance;
        if (diff > allowed) {
            throw Errors.notAsPublished(
                    dir,
                    metric,
                    fresh.get(metric),
                    fresh.get("examples").longValue(),
                    recorded,
                    m.metrics().getOrDefault("examples", 0.0).longValue(),
                    diff,
                    allowed);
        }
    }
}
