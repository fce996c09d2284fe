package io.compactml.jobs.publish;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.artifact.PublishLayout;
import io.compactml.common.artifact.PublishSettings;
import io.compactml.common.artifact.TritonRepository;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.distill.DistillSettings;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxSignature;
import io.compactml.common.prune.PruneSettings;
import io.compactml.common.quant.QuantizeSettings;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.ArtifactRow;
import io.compactml.jobs.tables.EvaluationRow;
import io.compactml.jobs.tables.RunLog;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code publish}: copies a model and its manifest to {@code artifacts.root/<model>/<version>/} (see
 * {@link ArtifactStore} for the protocol) and records it in {@code artifacts}. The model must have been
 * evaluated: the manifest carries its latest metrics from {@code evaluations}. Which model of the run is
 * published is {@code publish.model} (a {@link ModelKind}); its file must load with its format's serving loader.
 */
public final class PublishJob {
    private final JobContext ctx;

    public PublishJob(JobContext ctx) {
        this.ctx = ctx;
    }

    public ArtifactStore.Published run() {
        CompactConfig c = ctx.config();
        ModelKind kind = PublishSettings.from(c).kind();
        String name = ctx.locations().modelName();
        byte[] source = ModelIO.readBytes(ctx.modelUri(), ctx.hadoop());
        String sourceSha = ModelIO.sha256(source);
        if (kind == ModelKind.FLOAT) {
            ModelIO.fromBytes(source, ctx.modelUri());
            return publish(name, kind, source, sourceSha, Map.of());
        }
        String uri = ctx.modelUri(kind, name);
        byte[] bytes = ModelIO.readBytes(uri, ctx.hadoop());
        // refuse a file the serving loader of its format cannot load, before anything is written
        kind.format().load(bytes, uri);
        return publish(kind.nameFor(name), kind, bytes, sourceSha, provenance(kind));
    }

    /** How a model of {@code kind} was made under this run, from this run's settings, for its manifest. */
    private Map<String, String> provenance(ModelKind kind) {
        CompactConfig c = ctx.config();
        return switch (kind) {
            case INT8 -> {
                QuantizeSettings q = QuantizeSettings.from(c);
                yield calibration(q, ctx.runIdOr(q.calibrationRun()), DatasetSpec.from(c, "calibration"));
            }
            case PRUNED -> {
                PruneSettings p = PruneSettings.from(c);
                yield pruning(p, ctx.runIdOr(p.importanceRun()));
            }
            case STUDENT -> {
                DistillSettings d = DistillSettings.from(c);
                yield distillation(d, ctx.runIdOr(d.teacherRun()));
            }
            case FLOAT -> Map.of();
        };
    }

    /** The manifest's account of an int8 model: its calibration run, method and data set. */
    public static Map<String, String> calibration(
            QuantizeSettings settings, String calibrationRun, DatasetSpec calibration) {
        return Map.of(
                "calibration",
                "run " + calibrationRun + ", method " + settings.method().id() + ", " + calibration.name() + " "
                        + calibration.uri() + ", weights " + settings.weightBits() + "-bit"
                        + (settings.mixed() ? " or lower per layer " + settings.mixedBits() : ""));
    }

    /** The manifest's account of a pruned model. */
    public static Map<String, String> pruning(PruneSettings settings, String importanceRun) {
        return Map.of("pruning", settings.describe(importanceRun));
    }

    /** The manifest's account of a distilled student. */
    public static Map<String, String> distillation(DistillSettings settings, String teacherRun) {
        return Map.of("distillation", settings.describe(teacherRun));
    }

    /**
     * Publishes {@code bytes}, a model of {@code kind} recorded and published as {@code name}, made from the model
     * whose sha256 is {@code sourceSha}, under {@code publish.version} (default: the run id).
     *
     * @param provenance what the manifest says about how it was made, beside the data sets
     * @throws io.compactml.common.CompactMLException (usage) when the model has no evaluation
     */
    public ArtifactStore.Published publish(
            String name, ModelKind kind, byte[] bytes, String sourceSha, Map<String, String> provenance) {
        CompactConfig c = ctx.config();
        String version = PublishSettings.from(c).versionOr(ctx.runId());
        String sha = ModelIO.sha256(bytes);
        Map<String, Double> metrics = latestMetrics(name, sha);
        if (metrics.isEmpty()) {
            throw Errors.notEvaluated(name, sha);
        }
        Map<String, String> data = manifestData(c, provenance);
        PublishSettings settings = PublishSettings.from(c);
        byte[] onnx = kind.format().toOnnx(bytes, name);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork network =
                kind.format().network(bytes, name);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(kind.format().fileName(), bytes);
        files.put(OnnxSignature.FILE, onnx);
        ArtifactStore store = new ArtifactStore(ctx.locations().artifactsRoot(), ctx.hadoop());
        ArtifactStore.Published published = store.publish(
                name,
                version,
                files,
                entries -> new Manifest(
                        name,
                        version,
                        kind.technique(),
                        kind.format().id(),
                        Instant.now().toString(),
                        ctx.runId(),
                        sourceSha,
                        RunLog.PROJECT_VERSION,
                        c.describe(),
                        data,
                        metrics,
                        entries,
                        OnnxSignature.of(onnx),
                        inputScaling(network),
                        io.compactml.common.model.ClassNames.namesOf(network)));
        if (settings.layout() == PublishLayout.TRITON) {
            Console.out(
                    "  triton model repository: %s",
                    new TritonRepository(settings.tritonRoot(c), ctx.hadoop())
                            .publish(name, onnx, io.compactml.common.model.ClassNames.namesOf(network)));
        }
        recordArtifact(published, kind, sha, sourceSha, bytes.length, store.read(name, version, Manifest.FILE_NAME));
        return published;
    }

    /** The manifest entry for the scaling {@code net} stores, or null (the manifest class stays free of DL4J). */
    private static Manifest.InputScaling inputScaling(org.deeplearning4j.nn.multilayer.MultiLayerNetwork net) {
        return io.compactml.common.model.FeatureScaling.of(net)
                .map(s -> new Manifest.InputScaling(s.method(), s.shift(), s.factor()))
                .orElse(null);
    }

    /** The manifest's data entry: the data sets, how the model was made, the runtime its metrics came from. */
    private static Map<String, String> manifestData(CompactConfig c, Map<String, String> provenance) {
        DatasetSpec train = DatasetSpec.from(c, "train");
        DatasetSpec eval = DatasetSpec.from(c, "eval");
        Map<String, String> data = new LinkedHashMap<>();
        data.put("train", train.name() + " " + train.uri());
        data.put("eval", eval.name() + " " + eval.uri());
        data.putAll(provenance);
        data.put("runtime", EvaluateSettings.from(c).runtime().id());
        return data;
    }

    /** The artifacts table's row of a published version. */
    private void recordArtifact(
            ArtifactStore.Published published,
            ModelKind kind,
            String sha,
            String sourceSha,
            long size,
            byte[] manifest) {
        Manifest m = published.manifest();
        ctx.tables()
                .upsert(
                        Table.ARTIFACTS,
                        List.of(new ArtifactRow(
                                m.name(),
                                m.version(),
                                m.runId(),
                                kind.technique(),
                                published.dir(),
                                sha,
                                sourceSha,
                                size,
                                ModelIO.sha256(manifest),
                                Timestamp.from(Instant.now()))));
    }

    /**
     * The newest value of every metric recorded for this model name and sha256 (one int8 file is evaluated
     * twice, as int8 and as int8 weights only, under two names).
     */
    private Map<String, Double> latestMetrics(String model, String sha) {
        Map<String, Double> out = new TreeMap<>();
        ctx
                .tables()
                .rows(Table.EVALUATIONS, Scope.where("model_sha256", sha).and("model_name", model), EvaluationRow.class)
                .stream()
                .sorted(Comparator.comparing(EvaluationRow::createdAt))
                .forEach(r -> out.put(r.metric(), r.value()));
        return out;
    }
}
