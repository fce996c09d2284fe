package io.compactml.jobs.pipeline;

import io.compactml.jobs.distill.DistillJob;
import io.compactml.jobs.distill.SoftLabelsJob;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.model.ModelIO;
import io.compactml.common.pipeline.Plan;
import io.compactml.common.pipeline.Selection;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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
 * for this run with the same settings is reused. A distilled student is trained once and shared by every chain
 * that starts with it.
 */
public final class PipelineJob {
    private final JobContext ctx;
    private Optional<Stage> student = Optional.empty();
    /** sha256 of the source model: part of every candidate's settings hash. */
    private String sourceSha = "";

    public PipelineJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** A model one step made: the model a next step starts from, and what was measured on it. */
    record Stage(LoadedModel model, String modelName, String uri, String format, byte[] file, double accuracy,
                 double latencyMs, String runId) {
    }

    /** The plan's outcome: the verdicts in plan order, and what was published. */
    public record Result(Map<String, Double> source, List<Outcome> outcomes, Optional<ArtifactStore.Published> published) {
        public Optional<Outcome> chosen() {
            return outcomes.stream().filter(o -> o.verdict().chosen()).findFirst();
        }
    }

    /** One candidate: how it was made and the verdict. */
    public record Outcome(Plan.Candidate candidate, Stage stage, Selection.Verdict verdict, double seconds,
                          boolean reused) {
    }

    public Result run() {
        CompactConfig c = ctx.config();
        List<Plan.Candidate> plan = Plan.parse(c.getStringList("pipeline.candidates"), "pipeline.candidates");
        LoadedModel source = LoadedModel.read(ctx);
        sourceSha = source.sha256();
        Map<String, Double> sourceMetrics = new EvaluateJob(ctx).evaluate(source, "baseline").metrics();
        double sourceAccuracy = sourceMetrics.getOrDefault("accuracy", Double.NaN);
        if (Double.isNaN(sourceAccuracy)) {
            throw Errors.badConfigValue("task", c.getString("task"), "classification: the pipeline's constraints"
                    + " compare accuracies");
        }
        double sourceLatency = sourceMetrics.getOrDefault("latency_single_p50_ms", Double.NaN);
        Map<String, Row> previous = previousCandidates();

        List<Plan.Candidate> todo = new ArrayList<>();
        List<Outcome> outcomes = new ArrayList<>();
        Map<String, Stage> stages = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (Plan.Candidate cand : plan) {
            Row row = previous.get(cand.name());
            if (row != null && row.getAs("config_hash").equals(settingsHash(cand))) {
                Stage reused = reuse(row);
                stages.put(cand.name(), reused);
                seconds.put(cand.name(), row.<Double>getAs("seconds"));
                if (cand.steps().size() == 1 && cand.has(Plan.Kind.DISTILL)) {
                    // chains that start with distill continue from this student instead of training another
                    student = Optional.of(reused);
                }
            } else {
                todo.add(cand);
            }
        }
        java.util.Set<String> methods = new java.util.TreeSet<>();
        java.util.Set<String> criteria = new java.util.TreeSet<>();
        for (Plan.Candidate k : todo) {
            Plan.Step first = k.steps().get(0);
            if (first.kind() == Plan.Kind.INT8) {
                methods.add(first.method());
            } else if (first.kind() == Plan.Kind.PRUNE && !first.method().equals("magnitude")) {
                criteria.add(first.method());
            }
        }
        if (!methods.isEmpty()) {
            calibrateSourceOnce(source, methods);
        }
        if (!criteria.isEmpty()) {
            importanceOnce(ctx, source, criteria);
        }
        if (todo.stream().anyMatch(k -> k.has(Plan.Kind.DISTILL))) {
            teacherOutputsOnce(source);
        }
        for (Plan.Candidate cand : todo) {
            long t0 = System.nanoTime();
            Console.out("pipeline: candidate %s", cand.name());
            Stage s = make(cand, new Stage(source, c.getString("model.name"), source.uri(), "dl4j-multilayer-zip",
                    source.zip(), sourceAccuracy, sourceLatency, ctx.runId()));
            stages.put(cand.name(), s);
            seconds.put(cand.name(), (System.nanoTime() - t0) / 1e9);
        }

        List<Selection.Measured> measured = new ArrayList<>();
        for (Plan.Candidate cand : plan) {
            Stage s = stages.get(cand.name());
            measured.add(new Selection.Measured(cand.name(), s.accuracy(), s.file().length, s.latencyMs()));
        }
        Selection.Constraints limits = new Selection.Constraints(c.getDouble("pipeline.max-accuracy-drop"),
                c.getInt("pipeline.max-size-bytes"), c.getDouble("pipeline.max-latency-ms"));
        List<Selection.Verdict> verdicts = Selection.decide(sourceAccuracy, measured, limits);
        for (int i = 0; i < plan.size(); i++) {
            Plan.Candidate cand = plan.get(i);
            outcomes.add(new Outcome(cand, stages.get(cand.name()), verdicts.get(i), seconds.get(cand.name()),
                    !todo.contains(cand)));
        }
        record(outcomes, sourceAccuracy, source.zip().length);

        Optional<ArtifactStore.Published> published = Optional.empty();
        Optional<Outcome> chosen = outcomes.stream().filter(o -> o.verdict().chosen()).findFirst();
        if (chosen.isPresent() && c.getBoolean("pipeline.publish")) {
            published = Optional.of(publish(chosen.get(), source.sha256()));
        }
        Result result = new Result(sourceMetrics, outcomes, published);
        print(result, sourceAccuracy, source.zip().length, limits);
        return result;
    }

    /** Runs a candidate's steps from the source stage. */
    private Stage make(Plan.Candidate cand, Stage source) {
        CompactConfig c = candidateConfig(cand);
        JobContext cc = new JobContext(ctx.spark(), c, candidateRun(cand), ctx.tables());
        Stage current = source;
        List<Plan.Step> steps = cand.steps();
        for (int i = 0; i < steps.size(); i++) {
            Plan.Step step = steps.get(i);
            switch (step.kind()) {
                case DISTILL -> current = student(source.model());
                case PRUNE -> {
                    boolean int8 = i + 1 < steps.size();
                    JobContext pc = new JobContext(ctx.spark(), pruneConfig(c, step, int8, i == 0, cc.runId())
                            .with("model.name", current.modelName()), cc.runId(), ctx.tables());
                    if (current != source && !step.method().equals("magnitude")) {
                        importanceOnce(pc, current.model(), java.util.Set.of(step.method()));
                    }
                    PruneJob.Result r = new PruneJob(pc).prune(current.model());
                    // nothing follows a prune step but its int8 storage (done here): no model to hand on
                    current = new Stage(null, PruneJob.prunedName(pc),
                            r.uri(), "compactml-sparse", r.sparse(), r.metrics().get("accuracy"),
                            r.metrics().getOrDefault("latency_single_p50_ms", current.latencyMs()), cc.runId());
                    i += int8 ? 1 : 0;
                }
                case INT8 -> {
                    JobContext qc = new JobContext(ctx.spark(), int8Config(c, step, i == 0, cc.runId())
                            .with("model.name", current.modelName()), cc.runId(), ctx.tables());
                    if (current != source) {
                        new CalibrateJob(qc).calibrate(current.model());
                    }
                    QuantizeJob.Result r = new QuantizeJob(qc).quantize(current.model());
                    // the serving loader dequantizes into a float network of the same shape: its latency
                    current = new Stage(current.model(), current.modelName() + "-int8", r.uri(), "compactml-int8",
                            r.int8(), r.chosen().get("accuracy"), current.latencyMs(), cc.runId());
                }
                default -> throw new IllegalStateException(step.toString());
            }
        }
        return current;
    }

    /** The distilled student, trained once per pipeline run under {@code <run>.distill}. */
    private Stage student(LoadedModel teacher) {
        if (student.isEmpty()) {
            String run = ctx.runId() + ".distill";
            JobContext dc = new JobContext(ctx.spark(), ctx.config().with("distill.teacher-run", ctx.runId()),
                    run, ctx.tables());
            DistillJob.Result r = new DistillJob(dc).distill(teacher);
            Map<String, Double> m = r.evaluation();
            student = Optional.of(new Stage(LoadedModel.of(r.uri(), r.zip()), DistillJob.studentName(dc), r.uri(),
                    "dl4j-multilayer-zip", r.zip(), m.get("accuracy"),
                    m.getOrDefault("latency_single_p50_ms", Double.NaN), run));
        }
        return student.get();
    }

    /** Calibrates the source unless this run already has its parameters for every method the plan needs. */
    private void calibrateSourceOnce(LoadedModel source, java.util.Set<String> methods) {
        if (hasAll(ctx, Tables.Table.QUANT_PARAMS, source.sha256(), "method", methods)) {
            Console.out("pipeline: reusing the calibration statistics of run %s", ctx.runId());
        } else {
            new CalibrateJob(with(ctx, "calibrate.methods", methods)).calibrate(source);
        }
    }

    /** Scores a model's weights unless the run already has scores for every criterion the plan needs. */
    private void importanceOnce(JobContext jc, LoadedModel model, java.util.Set<String> criteria) {
        if (hasAll(jc, Tables.Table.PARAM_IMPORTANCE, model.sha256(), "criterion", criteria)) {
            Console.out("pipeline: reusing the importance scores of run %s", jc.runId());
        } else {
            new ImportanceJob(with(jc, "importance.criteria", criteria)).compute(model);
        }
    }

    /** {@code jc} with {@code values} added to the list setting {@code key}. */
    private static JobContext with(JobContext jc, String key, java.util.Set<String> values) {
        java.util.Set<String> all = new java.util.TreeSet<>(jc.config().getStringList(key));
        all.addAll(values);
        return new JobContext(jc.spark(), jc.config().with(key, List.copyOf(all)), jc.runId(), jc.tables());
    }

    /** Whether the run has rows of the model for every one of {@code values} in {@code column}. */
    private static boolean hasAll(JobContext jc, Tables.Table t, String sha, String column,
                                  java.util.Set<String> values) {
        if (!jc.tables().exists(t)) {
            return false;
        }
        long found = jc.tables().read(t).filter(functions.col("run_id").equalTo(jc.runId())
                        .and(functions.col("model_sha256").equalTo(sha))
                        .and(functions.col(column).isin(values.toArray())))
                .select(column).distinct().count();
        return found == values.size();
    }

    private void teacherOutputsOnce(LoadedModel teacher) {
        if (hasRows(Tables.Table.TEACHER_OUTPUTS, "teacher_sha256", teacher.sha256())) {
            Console.out("pipeline: reusing the teacher outputs of run %s", ctx.runId());
        } else {
            new SoftLabelsJob(ctx).label(teacher);
        }
    }

    private boolean hasRows(Tables.Table t, String shaColumn, String sha) {
        return ctx.tables().exists(t) && !ctx.tables().read(t)
                .filter(functions.col("run_id").equalTo(ctx.runId()).and(functions.col(shaColumn).equalTo(sha)))
                .limit(1).isEmpty();
    }

    /** The plan's config for a candidate's jobs: published under the plan's version, students from its teacher. */
    private CompactConfig candidateConfig(Plan.Candidate cand) {
        return ctx.config().with("publish.version", publishVersion(cand)).with("distill.teacher-run", ctx.runId());
    }

    /**
     * A prune step's settings: unstructured at the step's criterion and sparsity, int8 values when an int8 step
     * follows; importance scores of the plan's run for the source, of the candidate's run for a student.
     */
    private CompactConfig pruneConfig(CompactConfig c, Plan.Step step, boolean int8, boolean onSource,
                                      String candidateRun) {
        CompactConfig out = c.with("prune.criterion", step.method()).with("prune.sparsity", step.sparsity())
                .with("prune.structure", "unstructured").with("prune.scope", "global").with("prune.int8", int8)
                .with("prune.importance-run", onSource ? ctx.runId() : candidateRun);
        // the source's layer exclusions name the source's layers, not a student's
        return onSource ? out : out.with("prune.exclude-layers", List.of());
    }

    /** An int8 step's settings: its calibration method, on the plan's calibration of the source or the candidate's own. */
    private CompactConfig int8Config(CompactConfig c, Plan.Step step, boolean onSource, String candidateRun) {
        CompactConfig out = c.with("quantize.method", step.method())
                .with("quantize.calibration-run", onSource ? ctx.runId() : candidateRun);
        return onSource ? out : out.with("quantize.float-layers", List.of());
    }

    /** The settings the candidate's last model was made with, for its manifest. */
    private CompactConfig finalConfig(Plan.Candidate cand) {
        CompactConfig c = candidateConfig(cand);
        List<Plan.Step> steps = cand.steps();
        int n = steps.size();
        Plan.Step last = steps.get(n - 1);
        if (last.kind() == Plan.Kind.INT8 && n >= 2 && steps.get(n - 2).kind() == Plan.Kind.PRUNE) {
            return pruneConfig(c, steps.get(n - 2), true, n == 2, candidateRun(cand));
        }
        return switch (last.kind()) {
            case PRUNE -> pruneConfig(c, last, false, n == 1, candidateRun(cand));
            case INT8 -> int8Config(c, last, n == 1, candidateRun(cand));
            default -> c;
        };
    }

    /**
     * The version a candidate is published under: publish.version, else the candidate's run id, so that a
     * rerun choosing another candidate of the same model name does not collide with the earlier one.
     */
    private String publishVersion(Plan.Candidate cand) {
        String v = ctx.config().getString("publish.version");
        return v.isEmpty() ? candidateRun(cand) : v;
    }

    private String candidateRun(Plan.Candidate cand) {
        return ctx.runId() + "." + cand.slug();
    }

    /**
     * A hash of what a candidate's result depends on: the source model's sha256 and every setting but the plan's
     * constraints and the publishing and verification keys, so that changing a constraint reuses every candidate
     * and a retrained source reuses none.
     */
    private String settingsHash(Plan.Candidate cand) {
        String settings = ctx.config().describe().entrySet().stream()
                .filter(e -> !e.getKey().startsWith("pipeline.") && !e.getKey().startsWith("publish.")
                        && !e.getKey().startsWith("verify."))
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
        return ModelIO.sha256((cand.name() + "\n" + sourceSha + "\n" + settings).getBytes(StandardCharsets.UTF_8));
    }

    private Map<String, Row> previousCandidates() {
        Map<String, Row> out = new LinkedHashMap<>();
        if (ctx.tables().exists(Tables.Table.CANDIDATES)) {
            for (Row r : ctx.tables().read(Tables.Table.CANDIDATES)
                    .filter(functions.col("run_id").equalTo(ctx.runId())).collectAsList()) {
                out.put(r.getAs("candidate"), r);
            }
        }
        return out;
    }

    /** A candidate of an earlier run of this plan: its file read back, its measurements from its row. */
    private Stage reuse(Row row) {
        String uri = row.getAs("model_uri");
        Console.out("pipeline: reusing candidate %s (%s)", row.<String>getAs("candidate"), uri);
        byte[] file = ModelIO.readBytes(uri, ctx.hadoop());
        Double latency = row.getAs("latency_single_p50_ms");
        String format = row.getAs("format");
        LoadedModel model = format.equals("dl4j-multilayer-zip") ? LoadedModel.of(uri, file) : null;
        return new Stage(model, row.getAs("model_name"), uri, format, file, row.getAs("accuracy"),
                latency == null ? Double.NaN : latency, row.getAs("candidate_run_id"));
    }

    private void record(List<Outcome> outcomes, double sourceAccuracy, long sourceSize) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        for (Outcome o : outcomes) {
            Stage s = o.stage();
            Selection.Verdict v = o.verdict();
            rows.add(RowFactory.create(ctx.runId(), o.candidate().name(), settingsHash(o.candidate()),
                    o.candidate().steps().stream().map(Plan.Step::toString).toArray(String[]::new), s.runId(),
                    s.modelName(), s.uri(), s.format(), s.accuracy(), sourceAccuracy, v.accuracyDropPoints(),
                    (long) s.file().length, sourceSize, Double.isNaN(s.latencyMs()) ? null : s.latencyMs(),
                    v.meetsConstraints(), v.paretoOptimal(), v.chosen(), v.decision(), o.seconds(), o.reused(), now));
        }
        ctx.tables().replace(Tables.Table.CANDIDATES, rows, "run_id = '" + ctx.runId() + "'");
    }

    private ArtifactStore.Published publish(Outcome chosen, String sourceSha) {
        Stage s = chosen.stage();
        JobContext pc = new JobContext(ctx.spark(), finalConfig(chosen.candidate()).with("model.name", baseName(s)),
                s.runId(), ctx.tables());
        PublishJob publisher = new PublishJob(pc);
        return switch (s.format()) {
            case "compactml-int8" -> publisher.publishInt8(s.file(), sourceSha);
            case "compactml-sparse" -> publisher.publishPruned(s.file(), sourceSha);
            default -> publisher.publishStudent(s.file(), sourceSha);
        };
    }

    /** The model.name under which PublishJob's naming ({@code <name>-int8}, ...) gives the stage's name. */
    private static String baseName(Stage s) {
        String suffix = switch (s.format()) {
            case "compactml-int8" -> "-int8";
            case "compactml-sparse" -> "-pruned";
            default -> "-student";
        };
        return s.modelName().endsWith(suffix) ? s.modelName().substring(0, s.modelName().length() - suffix.length())
                : s.modelName();
    }

    private void print(Result r, double sourceAccuracy, long sourceSize, Selection.Constraints limits) {
        Console.out("");
        Console.out("pipeline run %s: %d candidates; constraints: accuracy drop <= %s points, size <= %s,"
                        + " latency <= %s", ctx.runId(), r.outcomes().size(), limit(limits.maxAccuracyDropPoints()),
                limits.maxSizeBytes() > 0 ? String.format(Locale.ROOT, "%,d bytes", limits.maxSizeBytes()) : "any",
                limits.maxLatencyMs() > 0 ? limits.maxLatencyMs() + " ms" : "any");
        Console.out("  %-40s %8s %7s %12s %7s %9s  %s", "source " + ctx.config().getString("model.name"),
                String.format(Locale.ROOT, "%.4f", sourceAccuracy), "", String.format(Locale.ROOT, "%,d", sourceSize),
                "1.0x", String.format(Locale.ROOT, "%.3f", r.source().getOrDefault("latency_single_p50_ms", Double.NaN)),
                "");
        for (Outcome o : r.outcomes()) {
            Selection.Verdict v = o.verdict();
            Console.out("  %-40s %8.4f %+7.2f %,12d %6.1fx %9.3f  %s%s", o.candidate().name(), v.measured().accuracy(),
                    -v.accuracyDropPoints(), v.measured().sizeBytes(), sourceSize / (double) v.measured().sizeBytes(),
                    v.measured().latencyMs(), v.decision(), o.reused() ? " (reused)" : "");
        }
        r.published().ifPresent(p -> Console.out("  published %s%s", p.dir(),
                p.alreadyPresent() ? " (already published)" : ""));
        if (r.chosen().isEmpty()) {
            Console.out("  no candidate meets the constraints: nothing published");
        }
    }

    /** An accuracy-drop limit as printed: negative means none. */
    private static String limit(double v) {
        return v >= 0 ? String.format(Locale.ROOT, "%.2f", v) : "any";
    }
}
