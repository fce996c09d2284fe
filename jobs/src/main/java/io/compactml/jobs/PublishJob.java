package io.compactml.jobs;

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

    private final JobContext ctx;

    public PublishJob(JobContext ctx) {
        this.ctx = ctx;
    }

    public ArtifactStore.Published run() {
        String uri = ctx.modelUri();
        byte[] zip = ModelIO.readBytes(uri, ctx.hadoop());
        ModelIO.fromBytes(zip, uri);
        return publish(zip, "baseline", ModelIO.sha256(zip));
    }

    /** Publishes model bytes made by {@code technique} from the model whose sha256 is {@code sourceSha}. */
    public ArtifactStore.Published publish(byte[] zip, String technique, String sourceSha) {
        CompactConfig c = ctx.config();
        String model = c.getString("model.name");
        String version = c.getString("publish.version").isEmpty() ? ctx.runId() : c.getString("publish.version");
        String sha = ModelIO.sha256(zip);
        Map<String, Double> metrics = latestMetrics(sha);
        if (metrics.isEmpty()) {
            throw Errors.badConfigValue("model.path", ctx.modelUri(), "a model with rows in 'evaluations': run"
                    + " `compactml evaluate` with the same --run-id (or model.path) first");
        }
        DatasetSpec train = DatasetSpec.from(c, "train");
        DatasetSpec eval = DatasetSpec.from(c, "eval");
        Map<String, String> data = new LinkedHashMap<>();
        data.put("train", train.name() + " " + train.uri());
        data.put("eval", eval.name() + " " + eval.uri());
        ArtifactStore store = new ArtifactStore(c.getString("artifacts.root"), ctx.hadoop());
        ArtifactStore.Published published = store.publish(model, version, Map.of(MODEL_FILE, zip),
                files -> new Manifest(model, version, technique, "dl4j-multilayer-zip", Instant.now().toString(),
                        ctx.runId(), sourceSha, RunLog.PROJECT_VERSION, c.describe(), data, metrics, files));
        byte[] manifest = store.read(model, version, Manifest.FILE_NAME);
        Row row = RowFactory.create(model, version, published.manifest().runId(), technique, published.dir(), sha,
                sourceSha, (long) zip.length, ModelIO.sha256(manifest), Timestamp.from(Instant.now()));
        ctx.tables().upsert(Tables.Table.ARTIFACTS, List.of(row), List.of("model_name", "version"));
        return published;
    }

    /** The newest value of every metric recorded for the model with this sha256. */
    private Map<String, Double> latestMetrics(String sha) {
        Map<String, Double> out = new TreeMap<>();
        if (!ctx.tables().exists(Tables.Table.EVALUATIONS)) {
            return out;
        }
        List<Row> rows = ctx.tables().read(Tables.Table.EVALUATIONS)
                .filter(functions.col("model_sha256").equalTo(sha))
                .orderBy(functions.col("created_at"))
                .select("metric", "value").collectAsList();
        for (Row r : rows) {
            out.put(r.getString(0), r.isNullAt(1) ? null : r.getDouble(1));
        }
        return out;
    }
}
