package io.compactml.jobs.publish;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.PublishSettings;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.ModelShapes;
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
        Manifest.FileEntry file = m.files().get(0);
        byte[] bytes = store.read(model, version, file.path());
        String source = dir + "/" + file.path();
        ModelFormat format = ModelFormat.byId(m.format(), dir);
        Map<String, Double> fresh = evaluate(format.load(bytes, source), format.network(bytes, source));
        compare(dir, m, fresh, s.tolerance());
        Console.out(
                "verified %s: %d file(s) match the manifest; accuracy %.4f on %,d examples (manifest %.4f on %,d)",
                dir,
                m.files().size(),
                fresh.get("accuracy"),
                fresh.get("examples").longValue(),
                m.metrics().getOrDefault("accuracy", Double.NaN),
                m.metrics().getOrDefault("examples", 0.0).longValue());
        return new Result(dir, m, fresh);
    }

    private Map<String, Double> evaluate(Variant variant, MultiLayerNetwork net) {
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        EvaluateSettings settings = EvaluateSettings.from(ctx.config());
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), "eval"), inputs, 1);
        JavaRDD<DataSet> batches =
                SparkData.minibatches(data, inputs, outputs, ModelShapes.task(net), settings.batchSize());
        return VariantEvaluator.evaluate(
                        ctx.jsc(), List.of(variant), batches, ModelShapes.task(net), outputs, settings.topK(outputs))
                .get(variant.name());
    }

    private static void compare(String dir, Manifest m, Map<String, Double> fresh, double tolerance) {
        String metric = m.metrics().containsKey("accuracy") ? "accuracy" : "mse";
        Double recorded = m.metrics().get(metric);
        if (recorded == null || !fresh.containsKey(metric)) {
            return;
        }
        boolean same = fresh.get("examples").equals(m.metrics().get("examples"));
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
