package io.compactml.jobs.publish;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.SparseModel;
import io.compactml.common.quant.Variant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code verify}: what a serving process does before it serves an artifact, plus a quality check. It reads the
 * manifest of {@code artifacts.root/<verify.model>/<verify.version>} (default: the version {@code LATEST}
 * names), checks every file's size and sha256 (a tampered file is refused), loads the model with the loader
 * of its format ({@link #load}), evaluates it on {@code data.eval} and compares the result with the metrics in
 * the manifest: equal when the evaluation saw as many examples as the manifest's, else within
 * {@code verify.tolerance} points (a quick check on a slice, {@code data.eval.limit}).
 */
public final class VerifyJob {
    private final JobContext ctx;

    public VerifyJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The artifact verified, the manifest's metrics and the fresh ones. */
    public record Result(String dir, Manifest manifest, Map<String, Double> metrics) {
    }

    public Result run() {
        CompactConfig c = ctx.config();
        String model = c.getString("verify.model").isEmpty() ? c.getString("model.name") : c.getString("verify.model");
        ArtifactStore store = new ArtifactStore(c.getString("artifacts.root"), ctx.hadoop());
        String version = c.getString("verify.version");
        if (version.isEmpty()) {
            version = latest(store, model);
        }
        Manifest m = store.verify(model, version);
        String dir = store.dir(model, version);
        Manifest.FileEntry file = m.files().get(0);
        byte[] bytes = store.read(model, version, file.path());
        Variant variant = load(m.format(), bytes, dir + "/" + file.path());
        Map<String, Double> fresh = evaluate(variant);
        compare(dir, m, fresh, c.getDouble("verify.tolerance"));
        Console.out("verified %s: %d file(s) match the manifest; accuracy %.4f on %,d examples (manifest %.4f on %,d)",
                dir, m.files().size(), fresh.get("accuracy"), fresh.get("examples").longValue(),
                m.metrics().getOrDefault("accuracy", Double.NaN), m.metrics().getOrDefault("examples", 0.0).longValue());
        return new Result(dir, m, fresh);
    }

    private String latest(ArtifactStore store, String model) {
        return store.latest(model).orElseThrow(() -> new CompactMLException(CompactMLException.Kind.USAGE,
                "Nothing of " + model + " is published under " + ctx.config().getString("artifacts.root")
                + " (no LATEST). Publish it first, or set verify.model and verify.version."));
    }

    /**
     * The loader a serving process uses for each format: a DL4J zip through {@code ModelSerializer}; an int8
     * model as {@link io.compactml.common.quant.Int8Model} with simulated int8 activations; a sparse model
     * restored by {@link SparseModel#toNetwork()}.
     */
    public static Variant load(String format, byte[] bytes, String source) {
        return switch (format) {
            case "dl4j-multilayer-zip" -> {
                ModelIO.fromBytes(bytes, source);
                yield new Variant(source, Variant.Kind.FLOAT, bytes);
            }
            case "compactml-int8" -> {
                io.compactml.common.quant.Int8Model.fromBytes(bytes, source);
                yield new Variant(source, Variant.Kind.INT8, bytes);
            }
            case "compactml-sparse" -> new Variant(source, Variant.Kind.FLOAT,
                    ModelIO.toBytes(SparseModel.fromBytes(bytes, source).toNetwork()));
            default -> throw Errors.artifactCorrupt(source, "unknown format '" + format + "' in the manifest");
        };
    }

    private Map<String, Double> evaluate(Variant variant) {
        MultiLayerNetwork net = variant.kind() == Variant.Kind.FLOAT ? ModelIO.fromBytes(variant.payload(),
                variant.name()) : io.compactml.common.quant.Int8Model.fromBytes(variant.payload(), variant.name())
                .toNetwork();
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), "eval"), inputs, 1);
        JavaRDD<DataSet> batches = SparkData.minibatches(data, inputs, outputs, ModelShapes.task(net),
                ctx.config().getInt("evaluate.batch-size"));
        return VariantEvaluator.evaluate(ctx.jsc(), List.of(variant), batches, ModelShapes.task(net), outputs,
                Math.min(ctx.config().getInt("evaluate.top-k"), outputs)).get(variant.name());
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
            throw new CompactMLException(CompactMLException.Kind.RUNTIME, String.format(Locale.ROOT,
                    "Artifact %s: %s %.4f on %,d examples of data.eval, the manifest says %.4f on %,d (difference"
                    + " %.3f, allowed %.3f). The model does not behave as published: do not serve it.", dir, metric,
                    fresh.get(metric), fresh.get("examples").longValue(), recorded,
                    m.metrics().getOrDefault("examples", 0.0).longValue(), diff, allowed));
        }
    }
}
