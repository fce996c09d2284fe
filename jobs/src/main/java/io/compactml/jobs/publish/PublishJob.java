package io.compactml.jobs.publish;

import io.compactml.jobs.distill.DistillJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.RunLog;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;

/**
 * {@code publish}: copies a model and its manifest to {@code artifacts.root/<model>/<version>/} (see
 * {@link ArtifactStore} for the protocol) and records it in {@code artifacts}. The model must have been
 * evaluated: the manifest carries its latest metrics from {@code evaluations}.
 */
public final class PublishJob {
    public static final String MODEL_FILE = "model.zip";
    /** The artifact format of each {@code publish.model} choice (what {@link VerifyJob#load} reads). */
    static final Map<String, String> FORMATS = Map.of("float", "dl4j-multilayer-zip", "student", "dl4j-multilayer-zip",
            "int8", "compactml-int8", "pruned", "compactml-sparse");

    private final JobContext ctx;

    public PublishJob(JobContext ctx) {
        this.ctx = ctx;
    }

    public ArtifactStore.Published run() {
        String which = ctx.config().getString("publish.model");
        byte[] source = ModelIO.readBytes(ctx.modelUri(), ctx.hadoop());
        if (which.equals("float")) {
            ModelIO.fromBytes(source, ctx.modelUri());
            return publish(source, "baseline", ModelIO.sha256(source));
        }
        String uri = switch (which) {
            case "int8" -> QuantizeJob.int8Uri(ctx);
            case "pruned" -> PruneJob.prunedUri(ctx);
            default -> DistillJob.studentUri(ctx);
        };
        byte[] bytes = ModelIO.readBytes(uri, ctx.hadoop());
        // refuse a file the serving loader of its format cannot load, before anything is written
        VerifyJob.load(FORMATS.get(which), bytes, uri);
        String sourceSha = ModelIO.sha256(source);
        return switch (which) {
            case "int8" -> publishInt8(bytes, sourceSha);
            case "pruned" -> publishPruned(bytes, sourceSha);
            default -> publishStudent(bytes, sourceSha);
        };
    }

    /** Publishes a float model zip made by {@code technique} from the model whose sha256 is {@code sourceSha}. */
    public ArtifactStore.Published publish(byte[] zip, String technique, String sourceSha) {
        return publish(ctx.config().getString("model.name"), MODEL_FILE, zip, FORMATS.get("float"), technique,
                sourceSha, Map.of());
    }

    /** Publishes an int8 model as {@code <model>-int8}, with its calibration in the manifest. */
    public ArtifactStore.Published publishInt8(byte[] int8, String sourceSha) {
        CompactConfig c = ctx.config();
        String run = QuantizeJob.calibrationRun(ctx);
        DatasetSpec calibration = DatasetSpec.from(c, "calibration");
        return publish(c.getString("model.name") + "-int8", QuantizeJob.FILE, int8, FORMATS.get("int8"), "int8",
                sourceSha, Map.of("calibration", "run " + run + ", method " + c.getString("quantize.method") + ", "
                        + calibration.name() + " " + calibration.uri()));
    }

    /** Publishes a distilled student (a DL4J zip) as {@code <model>-student}, its teacher as the source. */
    public ArtifactStore.Published publishStudent(byte[] zip, String teacherSha) {
        return publish(DistillJob.studentName(ctx), MODEL_FILE, zip, FORMATS.get("student"), "distilled", teacherSha,
                Map.of("distillation", "teacher outputs of run " + DistillJob.teacherRun(ctx) + ", settings "
                        + ctx.config().getStringList("distill.settings")));
    }

    /** Publishes a sparse model as {@code <model>-pruned}, with how it was pruned in the manifest. */
    public ArtifactStore.Published publishPruned(byte[] sparse, String sourceSha) {
        CompactConfig c = ctx.config();
        String how = String.format(java.util.Locale.ROOT, "%s %s, criterion %s, sparsity %s, %d fine-tuning epochs,"
                        + " %s values, importance run %s", c.getString("prune.structure"), c.getString("prune.scope"),
                c.getString("prune.criterion"), c.getDouble("prune.sparsity"), c.getInt("prune.fine-tune-epochs"),
                c.getBoolean("prune.int8") ? "int8" : "float32", PruneJob.importanceRun(ctx));
        return publish(PruneJob.prunedName(ctx), PruneJob.FILE, sparse, FORMATS.get("pruned"), "pruned", sourceSha,
                Map.of("pruning", how));
    }

    private ArtifactStore.Published publish(String model, String file, byte[] bytes, String format, String technique,
                                            String sourceSha, Map<String, String> extraData) {
        CompactConfig c = ctx.config();
        String version = c.getString("publish.version").isEmpty() ? ctx.runId() : c.getString("publish.version");
        String sha = ModelIO.sha256(bytes);
        Map<String, Double> metrics = latestMetrics(model, sha);
        if (metrics.isEmpty()) {
            throw Errors.badConfigValue("model.path", ctx.modelUri(), "a model with rows in 'evaluations': run"
                    + " `compactml evaluate` (or `quantize` for int8, `prune` for pruned, `distill` for a student) with the same --run-id first");
        }
        DatasetSpec train = DatasetSpec.from(c, "train");
        DatasetSpec eval = DatasetSpec.from(c, "eval");
        Map<String, String> data = new LinkedHashMap<>();
        data.put("train", train.name() + " " + train.uri());
        data.put("eval", eval.name() + " " + eval.uri());
        data.putAll(extraData);
        ArtifactStore store = new ArtifactStore(c.getString("artifacts.root"), ctx.hadoop());
        ArtifactStore.Published published = store.publish(model, version, Map.of(file, bytes),
                files -> new Manifest(model, version, technique, format, Instant.now().toString(),
                        ctx.runId(), sourceSha, RunLog.PROJECT_VERSION, c.describe(), data, metrics, files));
        byte[] manifest = store.read(model, version, Manifest.FILE_NAME);
        Row row = RowFactory.create(model, version, published.manifest().runId(), technique, published.dir(), sha,
                sourceSha, (long) bytes.length, ModelIO.sha256(manifest), Timestamp.from(Instant.now()));
        ctx.tables().upsert(Tables.Table.ARTIFACTS, List.of(row), List.of("model_name", "version"));
        return published;
    }

    /**
     * The newest value of every metric recorded for this model name and sha256 (one int8 file is evaluated
     * twice, as int8 and as int8 weights only, under two names).
     */
    private Map<String, Double> latestMetrics(String model, String sha) {
        Map<String, Double> out = new TreeMap<>();
        if (!ctx.tables().exists(Tables.Table.EVALUATIONS)) {
            return out;
        }
        List<Row> rows = ctx.tables().read(Tables.Table.EVALUATIONS)
                .filter(functions.col("model_sha256").equalTo(sha).and(functions.col("model_name").equalTo(model)))
                .orderBy(functions.col("created_at"))
                .select("metric", "value").collectAsList();
        for (Row r : rows) {
            out.put(r.getString(0), r.isNullAt(1) ? null : r.getDouble(1));
        }
        return out;
    }
}
