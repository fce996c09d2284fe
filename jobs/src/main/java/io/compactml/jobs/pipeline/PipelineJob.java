package io.compactml.jobs.pipeline;

import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.config.Choice;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.Augmentation;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.distill.DistillSettings;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.pipeline.PipelineSettings;
import io.compactml.common.pipeline.Plan;
import io.compactml.common.pipeline.Reuse;
import io.compactml.common.pipeline.Selection;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.common.prune.PruneSettings;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.common.quant.QatSettings;
import io.compactml.common.quant.QuantizeSettings;
import io.compactml.jobs.distill.DistillJob;
import io.compactml.jobs.distill.TeacherOutputsJob;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QatJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.CandidateRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.functions;

/**
 * {@code pipeline}: runs a compression plan on one source model ({@code model.path}, else the model trained
 * under the run id) and ships the smallest candidate that meets the constraints.
 *
 * <p>The shared stages run once per run id and are reused by a rerun: the source's calibration statistics,
 * importance scores (when a criterion needs gradients) and teacher outputs, found in their tables by run id and
 * model sha256. Every candidate runs under its own run id {@code <run>.<candidate>} (so candidates of one
 * technique do not overwrite each other's models and rows), is evaluated on all of data.eval by the job that
 * made it, and is recorded in {@code candidates} with the verdict. A candidate already in {@code candidates}
 * for this run with the same settings ({@link Reuse#settingsHash}) is reused. A distilled student is trained once
 * and shared by every chain that starts with it. Each step's settings are derived from the plan's settings records
 * ({@link PruneSettings#forStep}, {@link QuantizeSettings#forStep}), never by rewriting config keys.
 */
public final class PipelineJob {
    private final JobContext ctx;
    private final CompactConfig config;
    /** The distilled student, once trained or reused: every chain that starts with distill continues from it. */
    private Optional<Product> student = Optional.empty();

    public PipelineJob(JobContext ctx) {
        this.ctx = ctx;
        this.config = ctx.config();
    }

    /**
     * A model a plan made (or its source): the model a next step starts from (null when nothing can follow, a
     * sparse model), what was measured on it, and how it was made, for its manifest.
     */
    record Product(
            LoadedModel model,
            String modelName,
            String uri,
            ModelKind kind,
            byte[] file,
            Map<String, Double> quality,
            double latencyMs,
            String runId,
            Map<String, String> provenance) {
        /** Its measurements as {@link Selection} compares them. */
        Selection.Measured measured(String name) {
            return Selection.Measured.of(name, quality, file.length, latencyMs);
        }
    }

    /** The metrics a candidate is judged by: accuracy, or MSE and R² (those present in {@code metrics}). */
    private static Map<String, Double> quality(Map<String, Double> metrics) {
        Map<String, Double> q = new LinkedHashMap<>();
        for (String k : List.of("accuracy", "mse", "r2")) {
            if (metrics.get(k) != null && !metrics.get(k).isNaN()) {
                q.put(k, metrics.get(k));
            }
        }
        return q;
    }

    /** The plan's outcome: the verdicts in plan order, and what was published. */
    public record Result(
            Map<String, Double> source, List<Outcome> outcomes, Optional<ArtifactStore.Published> published) {
        public Optional<Outcome> chosen() {
            return outcomes.stream().filter(o -> o.verdict().chosen()).findFirst();
        }
    }

    /** One candidate: what it made, the verdict, how long it took, whether an earlier run's result was reused. */
    public record Outcome(
            Plan.Candidate candidate, Product product, Selection.Verdict verdict, double seconds, boolean reused) {}

    /** A candidate made or reused, before the verdict. */
    private record Made(Product product, double seconds, boolean reused) {}

    public Result run() {
        PipelineSettings plan = PipelineSettings.from(config);
        LoadedModel source = LoadedModel.read(ctx);
        Map<String, Double> sourceMetrics =
                new EvaluateJob(ctx).evaluate(source, "baseline").metrics();
        Task task = ModelShapes.task(source.net());
        Product from = new Product(
                source,
                source.name(),
                source.uri(),
                ModelKind.FLOAT,
                source.zip(),
                quality(sourceMetrics),
                sourceMetrics.getOrDefault("latency_single_p50_ms", Double.NaN),
                ctx.runId(),
                Map.of());
        Map<String, Made> made = reusable(plan, source.sha256());
        List<Plan.Candidate> todo = plan.candidates().stream()
                .filter(k -> !made.containsKey(k.name()))
                .toList();
        runSharedStages(Reuse.sharedStages(todo), source);
        for (Plan.Candidate cand : todo) {
            long t0 = System.nanoTime();
            Console.out("pipeline: candidate %s", cand.name());
            made.put(cand.name(), new Made(make(cand, from), (System.nanoTime() - t0) / 1e9, false));
            // recorded as it finishes: a plan that fails later keeps it, and its rerun reuses it
            record(decide(plan, made, task, from), source.sha256(), from, source.zip().length, false);
        }
        List<Outcome> outcomes = decide(plan, made, task, from);
        record(outcomes, source.sha256(), from, source.zip().length, true);
        Optional<ArtifactStore.Published> published = Optional.empty();
        Optional<Outcome> chosen =
                outcomes.stream().filter(o -> o.verdict().chosen()).findFirst();
        if (chosen.isPresent() && plan.publish()) {
            published = Optional.of(publish(chosen.get().product(), source.sha256()));
        }
        Result result = new Result(sourceMetrics, outcomes, published);
        print(result, task, from, source.zip().length, plan.constraints());
        return result;
    }

    /** A {@code candidates} row's measured quality, by metric name. */
    private static Map<String, Double> rowQuality(CandidateRow row) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", row.accuracy());
        m.put("mse", row.mse());
        m.put("r2", row.r2());
        return m;
    }

    /** The candidates an earlier run of this plan made with the same settings, read back. */
    private Map<String, Made> reusable(PipelineSettings plan, String sourceSha) {
        Map<String, CandidateRow> previous = new LinkedHashMap<>();
        ctx.tables()
                .rows(Table.CANDIDATES, Scope.run(ctx.runId()), CandidateRow.class)
                .forEach(r -> previous.put(r.candidate(), r));
        Map<String, Made> out = new LinkedHashMap<>();
        for (Plan.Candidate cand : plan.candidates()) {
            CandidateRow row = previous.get(cand.name());
            if (row != null && row.configHash().equals(settingsHash(cand, sourceSha))) {
                Product reused = reuse(cand, row);
                out.put(cand.name(), new Made(reused, row.seconds(), true));
                if (cand.isStudent()) {
                    student = Optional.of(reused);
                }
            }
        }
        return out;
    }

    /** A candidate of an earlier run of this plan: its file read back, its measurements from its row. */
    private Product reuse(Plan.Candidate cand, CandidateRow row) {
        Console.out("pipeline: reusing candidate %s (%s)", row.candidate(), row.modelUri());
        byte[] file = ModelIO.readBytes(row.modelUri(), ctx.hadoop());
        LoadedModel model = cand.kind().format() == ModelFormat.DL4J_ZIP
                ? LoadedModel.of(row.modelName(), row.modelUri(), file)
                : null;
        return new Product(
                model,
                row.modelName(),
                row.modelUri(),
                cand.kind(),
                file,
                quality(rowQuality(row)),
                row.latencySingleP50Ms() == null ? Double.NaN : row.latencySingleP50Ms(),
                row.candidateRunId(),
                provenance(cand));
    }

    /** Calibration, importance and teacher outputs of the source, each unless the run already has them. */
    private void runSharedStages(Reuse.SharedStages shared, LoadedModel source) {
        if (!shared.calibration().isEmpty()) {
            calibrateOnce(source, shared.calibration());
        }
        if (!shared.importance().isEmpty()) {
            importanceOnce(ctx, source, shared.importance());
        }
        if (shared.teacherOutputs()) {
            teacherOutputsOnce(source);
        }
    }

    /** Runs a candidate's steps from the source. */
    private Product make(Plan.Candidate cand, Product source) {
        JobContext cc = ctx.withRunId(candidateRun(cand));
        Product current = source;
        List<Plan.Step> work = cand.work();
        for (int i = 0; i < work.size(); i++) {
            Plan.Step step = work.get(i);
            boolean onSource = i == 0;
            current = switch (step.kind()) {
                case DISTILL -> student(source.model());
                case PRUNE -> prune(cc, current, step, onSource);
                case INT8 -> int8(cc, current, step, onSource);
                case QAT -> qat(cc, current, step, onSource);
            };
        }
        return current;
    }

    private Product prune(JobContext cc, Product current, Plan.Step step, boolean onSource) {
        PruneSettings settings = pruneStep(step, onSource, cc.runId());
        if (!onSource && step.criterion().needsData()) {
            importanceOnce(cc, current.model(), Set.of(step.criterion()));
        }
        PruneJob.Result r = new PruneJob(cc).prune(current.model(), settings);
        // nothing follows a prune step (its int8 storage is part of it): no model to hand on
        return new Product(
                null,
                r.name(),
                r.uri(),
                ModelKind.PRUNED,
                r.sparse(),
                quality(r.metrics()),
                r.metrics().getOrDefault("latency_single_p50_ms", current.latencyMs()),
                cc.runId(),
                PublishJob.pruning(settings, r.importanceRun()));
    }

    private Product int8(JobContext cc, Product current, Plan.Step step, boolean onSource) {
        QuantizeSettings settings = int8Step(step, onSource, cc.runId());
        calibrateStep(cc, current, step, onSource);
        return quantized(cc, current, settings, new QuantizeJob(cc).quantize(current.model(), settings));
    }

    /** A qat step: fine-tuned with the quantizer in the loop from the calibration of the model it starts from. */
    private Product qat(JobContext cc, Product current, Plan.Step step, boolean onSource) {
        QuantizeSettings settings = int8Step(step, onSource, cc.runId()).withWeightBits(step.bits());
        calibrateStep(cc, current, step, onSource);
        QatJob.Result r =
                new QatJob(cc).qat(current.model(), settings, QatSettings.from(config), settings.calibrationRun());
        return quantized(cc, current, settings, r.quantized());
    }

    /** Calibrates the model a quantization step starts from, unless it is the source (a shared stage). */
    private void calibrateStep(JobContext cc, Product current, Plan.Step step, boolean onSource) {
        if (!onSource) {
            new CalibrateJob(cc)
                    .calibrate(
                            current.model(), CalibrationSettings.from(config).withMethods(Set.of(step.calibration())));
        }
    }

    private Product quantized(JobContext cc, Product current, QuantizeSettings settings, QuantizeJob.Result r) {
        // its latency as served (in ONNX Runtime: the QDQ graph's int8 kernels)
        return new Product(
                current.model(),
                r.name(),
                r.uri(),
                ModelKind.INT8,
                r.file(),
                quality(r.int8Metrics()),
                r.int8Metrics().getOrDefault("latency_single_p50_ms", current.latencyMs()),
                cc.runId(),
                PublishJob.calibration(settings, r.calibrationRun(), DatasetSpec.from(config, "calibration")));
    }

    /** The distilled student, trained once per pipeline run under {@code <run>.distill}. */
    private Product student(LoadedModel teacher) {
        if (student.isEmpty()) {
            DistillSettings settings = distillStep();
            DistillJob.Result r = new DistillJob(ctx.withRunId(ctx.runId() + ".distill")).distill(teacher, settings);
            Map<String, Double> m = r.evaluation();
            student = Optional.of(new Product(
                    r.model(),
                    r.name(),
                    r.uri(),
                    ModelKind.STUDENT,
                    r.zip(),
                    quality(m),
                    m.getOrDefault("latency_single_p50_ms", Double.NaN),
                    ctx.runId() + ".distill",
                    PublishJob.distillation(settings, r.teacherRun())));
        }
        return student.get();
    }

    /**
     * A prune step's settings: unstructured and global at the step's criterion and sparsity, int8 values when an
     * int8 step follows; importance scores of the plan's run for the source, of the candidate's run for a student.
     */
    private PruneSettings pruneStep(Plan.Step step, boolean onSource, String candidateRun) {
        return PruneSettings.from(config)
                .forStep(
                        step.criterion(),
                        step.sparsity(),
                        step.int8(),
                        onSource ? ctx.runId() : candidateRun,
                        onSource);
    }

    /** An int8 step's settings: its method, on the plan's calibration of the source or the candidate's own. */
    private QuantizeSettings int8Step(Plan.Step step, boolean onSource, String candidateRun) {
        return QuantizeSettings.from(config)
                .forStep(step.calibration(), onSource ? ctx.runId() : candidateRun, onSource, step.bits());
    }

    /** The student's settings: the teacher outputs of the plan's run. */
    private DistillSettings distillStep() {
        return DistillSettings.from(config).withTeacherRun(ctx.runId());
    }

    /** How the candidate's last model was made, for its manifest (as {@link #make} makes it). */
    private Map<String, String> provenance(Plan.Candidate cand) {
        List<Plan.Step> work = cand.work();
        Plan.Step last = work.get(work.size() - 1);
        boolean onSource = work.size() == 1;
        return switch (last.kind()) {
            case DISTILL -> PublishJob.distillation(distillStep(), ctx.runId());
            case PRUNE ->
                PublishJob.pruning(
                        pruneStep(last, onSource, candidateRun(cand)), onSource ? ctx.runId() : candidateRun(cand));
            case INT8, QAT ->
                PublishJob.calibration(
                        int8Step(last, onSource, candidateRun(cand)),
                        onSource ? ctx.runId() : candidateRun(cand),
                        DatasetSpec.from(config, "calibration"));
        };
    }

    /** Calibrates the source unless this run already has its parameters for every method the plan needs. */
    private void calibrateOnce(LoadedModel source, Set<CalibrationMethod> methods) {
        if (hasAll(ctx, Table.QUANT_PARAMS, source.sha256(), "method", ids(methods))) {
            Console.out("pipeline: reusing the calibration statistics of run %s", ctx.runId());
        } else {
            new CalibrateJob(ctx)
                    .calibrate(source, CalibrationSettings.from(config).withMethods(methods));
        }
    }

    /** Scores a model's weights unless the run already has scores for every criterion the plan needs. */
    private void importanceOnce(JobContext jc, LoadedModel model, Set<Criterion> criteria) {
        if (hasAll(jc, Table.PARAM_IMPORTANCE, model.sha256(), "criterion", ids(criteria))) {
            Console.out("pipeline: reusing the importance scores of run %s", jc.runId());
        } else {
            new ImportanceJob(jc).compute(model, ImportanceSettings.from(config).withCriteria(criteria));
        }
    }

    /** Labels the transfer set unless the run has the outputs of this teacher with the same augmented copies. */
    private void teacherOutputsOnce(LoadedModel teacher) {
        String augmentation =
                Augmentation.from(config, ModelShapes.inputs(teacher.net())).describe();
        if (!TeacherOutputsJob.stored(ctx, ctx.runId())
                .filter(functions.col("teacher_sha256").equalTo(teacher.sha256()))
                .filter(functions.col("augmentation").eqNullSafe(augmentation))
                .limit(1)
                .isEmpty()) {
            Console.out("pipeline: reusing the teacher outputs of run %s", ctx.runId());
        } else {
            new TeacherOutputsJob(ctx).label(teacher, distillStep());
        }
    }

    private static List<String> ids(Set<? extends Choice> values) {
        return values.stream().map(Choice::id).toList();
    }

    /** Whether the run has rows of the model for every one of {@code values} in {@code column}. */
    private static boolean hasAll(JobContext jc, Table t, String sha, String column, List<String> values) {
        long found = jc.tables()
                .read(t, Scope.run(jc.runId()).and("model_sha256", sha))
                .filter(org.apache.spark.sql.functions.col(column).isin(values.toArray()))
                .select(column)
                .distinct()
                .count();
        return found == values.size();
    }

    /** The verdicts on the candidates made so far (all of the plan's, once it has finished). */
    private List<Outcome> decide(PipelineSettings plan, Map<String, Made> made, Task task, Product source) {
        List<Plan.Candidate> done = plan.candidates().stream()
                .filter(c -> made.containsKey(c.name()))
                .toList();
        List<Selection.Measured> measured = new ArrayList<>();
        for (Plan.Candidate cand : done) {
            Product p = made.get(cand.name()).product();
            measured.add(p.measured(cand.name()));
        }
        List<Selection.Verdict> verdicts =
                Selection.decide(task, source.measured("source"), measured, plan.constraints());
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < done.size(); i++) {
            Plan.Candidate cand = done.get(i);
            Made m = made.get(cand.name());
            outcomes.add(new Outcome(cand, m.product(), verdicts.get(i), m.seconds(), m.reused()));
        }
        return outcomes;
    }

    private String candidateRun(Plan.Candidate cand) {
        return ctx.runId() + "." + cand.slug();
    }

    private String settingsHash(Plan.Candidate cand, String sourceSha) {
        return Reuse.settingsHash(cand.name(), sourceSha, config.describe());
    }

    /**
     * The {@code candidates} rows of this run; while the plan is unfinished ({@code finished} false) nothing is
     * chosen yet and each row says so.
     */
    private void record(List<Outcome> outcomes, String sourceSha, Product source, long sourceSize, boolean finished) {
        Timestamp now = Timestamp.from(Instant.now());
        List<CandidateRow> rows = new ArrayList<>();
        for (Outcome o : outcomes) {
            Product p = o.product();
            Selection.Verdict v = o.verdict();
            rows.add(new CandidateRow(
                    ctx.runId(),
                    o.candidate().name(),
                    settingsHash(o.candidate(), sourceSha),
                    o.candidate().steps().stream().map(Plan.Step::toString).toList(),
                    p.runId(),
                    p.modelName(),
                    p.uri(),
                    p.kind().format().id(),
                    p.quality().get("accuracy"),
                    source.quality().get("accuracy"),
                    TrainJob.nullIfNaN(v.accuracyDropPoints()),
                    p.quality().get("mse"),
                    source.quality().get("mse"),
                    TrainJob.nullIfNaN(v.mseIncrease()),
                    p.quality().get("r2"),
                    (long) p.file().length,
                    sourceSize,
                    TrainJob.nullIfNaN(p.latencyMs()),
                    v.meetsConstraints(),
                    finished && v.paretoOptimal(),
                    finished && v.chosen(),
                    finished ? v.decision() : "made; the plan has not finished (a rerun reuses it)",
                    o.seconds(),
                    o.reused(),
                    now));
        }
        ctx.tables().replace(Table.CANDIDATES, rows, Scope.run(ctx.runId()));
    }

    /** Publishes the chosen candidate under its own run id (the version, unless publish.version is set). */
    private ArtifactStore.Published publish(Product chosen, String sourceSha) {
        return new PublishJob(ctx.withRunId(chosen.runId()))
                .publish(chosen.modelName(), chosen.kind(), chosen.file(), sourceSha, chosen.provenance());
    }

    private void print(Result r, Task task, Product source, long sourceSize, Selection.Constraints limits) {
        boolean classes = task == Task.CLASSIFICATION;
        Console.out("");
        Console.out(
                "pipeline run %s: %d candidates; constraints: %s, size <= %s, latency <= %s",
                ctx.runId(),
                r.outcomes().size(),
                classes
                        ? "accuracy drop <= " + limit(limits.maxAccuracyDropPoints()) + " points"
                        : "mse increase <= "
                                + (limits.maxMseIncrease() >= 0
                                        ? String.format(Locale.ROOT, "%.2f %%", 100 * limits.maxMseIncrease())
                                        : "any")
                                + ", r2 >= "
                                + (limits.minR2() > -1 ? String.format(Locale.ROOT, "%.4f", limits.minR2()) : "any"),
                limits.maxSizeBytes() > 0 ? String.format(Locale.ROOT, "%,d bytes", limits.maxSizeBytes()) : "any",
                limits.maxLatencyMs() > 0 ? limits.maxLatencyMs() + " ms" : "any");
        Console.out(
                "  %-40s %8s %8s %12s %7s %9s",
                "candidate", classes ? "accuracy" : "mse", classes ? "points" : "mse +%", "bytes", "smaller", "p50 ms");
        Selection.Measured src = source.measured("source");
        Console.out(
                "  %-40s %8.4f %8s %,12d %7s %9.3f",
                "source " + ctx.locations().modelName(),
                classes ? src.accuracy() : src.mse(),
                "",
                sourceSize,
                "1.0x",
                r.source().getOrDefault("latency_single_p50_ms", Double.NaN));
        for (Outcome o : r.outcomes()) {
            Selection.Verdict v = o.verdict();
            Console.out(
                    "  %-40s %8.4f %+8.2f %,12d %6.1fx %9.3f  %s%s",
                    o.candidate().name(),
                    classes ? v.measured().accuracy() : v.measured().mse(),
                    classes ? -v.accuracyDropPoints() : 100 * v.mseIncrease(),
                    v.measured().sizeBytes(),
                    sourceSize / (double) v.measured().sizeBytes(),
                    v.measured().latencyMs(),
                    v.decision(),
                    o.reused() ? " (reused)" : "");
        }
        r.published()
                .ifPresent(p ->
                        Console.out("  published %s%s", p.dir(), p.alreadyPresent() ? " (already published)" : ""));
        if (r.chosen().isEmpty()) {
            Console.out("  no candidate meets the constraints: nothing published");
        }
    }

    /** An accuracy-drop limit as printed: negative means none. */
    private static String limit(double v) {
        return v >= 0 ? String.format(Locale.ROOT, "%.2f", v) : "any";
    }
}
