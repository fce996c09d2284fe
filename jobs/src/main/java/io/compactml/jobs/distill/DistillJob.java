package io.compactml.jobs.distill;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.data.Augmentation;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.distill.DistillSettings;
import io.compactml.common.distill.DistillationLoss;
import io.compactml.common.model.ClassNames;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.model.TrainBudget;
import io.compactml.common.model.TrainSettings;
import io.compactml.jobs.data.RowBatches;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.tables.DistillCandidateRow;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * {@code distill}: trains students ({@code distill.student.*}) on Spark from the teacher outputs that
 * {@code teacher-outputs} stored, one per {@code distill.settings} entry ("T:alpha") plus, with
 * {@code distill.no-kd-baseline}, the same student on hard labels only. The features of {@code data.train} are
 * joined with the stored outputs once; every minibatch carries {@code [hard targets | teacher outputs]} as its
 * labels for {@link DistillationLoss}. The teacher is never run: augmented copies that {@code teacher-outputs}
 * labelled are made again from their examples ({@link Augmentation}), and a transfer set without labels teaches
 * the students from the teacher's outputs alone (no hard-label baseline then).
 *
 * <p>Each student is trained data-parallel on the whole cluster (parameter averaging, like {@code train}),
 * one after another, with the same seed, epochs and minibatches; its epochs are {@code training_history} rows
 * under {@code <model>-student-<setting>}, and it is evaluated on {@code data.eval}. The best by accuracy
 * (classification) or MSE (regression) is saved with the task's standard loss as
 * {@code models.root/<model>-student/<run-id>/model.zip}, a plain DL4J model, and evaluated as
 * {@code <model>-student} (technique distilled). Every student is a row of {@code distill_candidates}.
 */
public final class DistillJob {
    private final JobContext ctx;

    public DistillJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** One trained student: its setting, the network with the standard loss, its metrics and epochs. */
    public record Student(
            DistillSettings.Setting setting,
            MultiLayerNetwork net,
            Map<String, Double> metrics,
            List<TrainJob.Epoch> history) {}

    /** Every student, the chosen one as stored, and the teacher's quality on the same data. */
    public record Result(
            String name,
            List<Student> students,
            Student chosen,
            String uri,
            byte[] zip,
            DistillSettings settings,
            String teacherRun,
            Map<String, Double> teacherMetrics,
            long teacherParams,
            Map<String, Double> evaluation) {
        /** The chosen student as the next job takes it. */
        public LoadedModel model() {
            return LoadedModel.of(name, uri, zip);
        }
    }

    public Result run() {
        return distill(LoadedModel.read(ctx), DistillSettings.from(ctx.config()));
    }

    /** Trains the students from the teacher outputs of {@code teacher}, which must be what they were made with. */
    public Result distill(LoadedModel teacher, DistillSettings requested) {
        String teacherRun = ctx.runIdOr(requested.teacherRun());
        NetworkSpec spec = requested.student();
        DatasetSpec data = DatasetSpec.from(ctx.config(), "train");
        TrainBudget budget = TrainBudget.from(ctx.config(), "distill", "epochs", "steps");
        DistillSettings settings = data.labeled() ? requested : withoutLabels(requested, data, budget);
        Transfer transfer = joinedWithOutputs(teacher, data, teacherRun, spec.outputs());
        SparkData.Loaded joined = transfer.rows();
        Augmentation augment = transfer.augment();
        try {
            long examples = joined.rows().count();
            Console.out(
                    "distill: %,d examples of %s%s joined with the outputs of teacher %s (teacher-outputs run %s);"
                            + " %d candidates",
                    examples,
                    data.name(),
                    augment.enabled()
                            ? String.format(
                                    Locale.ROOT,
                                    " (%,d and %d augmented copies of each: %s)",
                                    examples / (augment.count() + 1),
                                    augment.count(),
                                    augment.describe())
                            : "",
                    teacher.sha256().substring(0, 12),
                    teacherRun,
                    settings.settings().size());
            SparkData.Loaded fitOn = joined;
            JavaRDD<DataSet> holdout = null;
            if (budget.earlyStopping()) {
                // early stopping on a held-out share, judged by the hard labels (the loss the student is served by)
                SparkData.Loaded[] parts = augment.enabled()
                        ? holdOutExamples(joined, budget.validationFraction())
                        : new TrainJob(ctx).holdOut(joined, budget);
                fitOn = parts[0];
                holdout = SparkData.minibatches(
                        parts[1],
                        joined.inputs(),
                        spec.outputs(),
                        spec.task(),
                        TrainSettings.from(ctx.config()).batchSize());
            }
            JavaRDD<DataSet> batches = distillationBatches(
                    fitOn, spec, TrainSettings.from(ctx.config()).batchSize(), augment);
            Map<String, Double> teacherMetrics = new EvaluateJob(ctx).quality(teacher.net(), "teacher");
            String name = ModelKind.STUDENT.nameFor(teacher.name());
            JavaRDD<DataSet> held = holdout;
            long t0 = System.nanoTime();
            List<Student> students =
                    trainAll(settings, s -> train(spec, s, batches, held, teacher, joined.inputs(), budget, name));
            Console.out(
                    "distill: %d candidates trained and evaluated in %.1f s, %d at a time (distill.parallelism)",
                    students.size(), (System.nanoTime() - t0) / 1e9, Math.min(settings.parallelism(), students.size()));
            Student chosen = best(students, spec.task());
            return store(teacher, settings, teacherRun, name, students, chosen, teacherMetrics);
        } finally {
            joined.rows().unpersist();
        }
    }

    /**
     * The candidates of {@code settings} that learn from a transfer set without labels: from the teacher's outputs
     * alone (the hard term of {@link DistillationLoss} is 0 for an example without a label), without the hard-label
     * baseline, which has nothing to learn from.
     *
     * @throws io.compactml.common.CompactMLException (usage) for a regression student, a setting with alpha 0, or
     *     early stopping (judged by labels)
     */
    private static DistillSettings withoutLabels(DistillSettings settings, DatasetSpec data, TrainBudget budget) {
        if (settings.student().task() != Task.CLASSIFICATION) {
            throw Errors.unlabeled(data, "A regression student learns from targets");
        }
        if (budget.earlyStopping()) {
            throw Errors.unlabeled(data, "distill.patience judges the students by labels (set it to 0)");
        }
        List<DistillSettings.Setting> kd = settings.settings().stream()
                .filter(s -> !s.name().equals(DistillSettings.NO_KD))
                .toList();
        for (DistillSettings.Setting s : kd) {
            if (s.alpha() == 0) {
                throw Errors.unlabeled(
                        data, "distill.settings entry " + s.name() + " (alpha 0) learns from labels only");
            }
        }
        if (kd.isEmpty()) {
            throw Errors.unlabeled(data, "The hard-label baseline is the only distill candidate");
        }
        if (kd.size() < settings.settings().size()) {
            Console.out("distill: data.train has no labels: the students learn from the teacher alone, no hard-label"
                    + " baseline");
        }
        return settings.withSettings(kd);
    }

    /**
     * Every candidate of {@code settings} trained by {@code train}, in the settings' order: one after another, or
     * {@code settings.parallelism()} at once from as many driver threads, each candidate's Spark jobs in a job group
     * and a FAIR scheduler pool of its own ({@code distill-<candidate>}), so that one candidate's gaps (the driver's
     * averaging between rounds, task launches) are filled by another's tasks. The first failure cancels the others'
     * jobs and is thrown as it was.
     */
    private List<Student> trainAll(DistillSettings settings, Function<DistillSettings.Setting, Student> train) {
        int threads = Math.min(settings.parallelism(), settings.settings().size());
        if (threads <= 1) {
            return settings.settings().stream().map(train).toList();
        }
        JavaSparkContext jsc = ctx.jsc();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "distill-candidate");
            t.setDaemon(true);
            return t;
        });
        List<Future<Student>> futures = new ArrayList<>();
        for (DistillSettings.Setting s : settings.settings()) {
            futures.add(pool.submit(() -> {
                jsc.setJobGroup(group(s), "distill candidate " + s.name(), true);
                jsc.setLocalProperty("spark.scheduler.pool", group(s));
                try {
                    return train.apply(s);
                } finally {
                    jsc.setLocalProperty("spark.scheduler.pool", null);
                    jsc.clearJobGroup();
                }
            }));
        }
        List<Student> students = new ArrayList<>();
        try {
            for (Future<Student> f : futures) {
                students.add(f.get());
            }
            return students;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while training the candidates", e);
        } finally {
            if (students.size() < futures.size()) {
                settings.settings().forEach(s -> jsc.cancelJobGroup(group(s)));
            }
            pool.shutdownNow();
        }
    }

    /** The Spark job group and FAIR scheduler pool of candidate {@code s}'s jobs. */
    private static String group(DistillSettings.Setting s) {
        return "distill-" + s.name();
    }

    private Student train(
            NetworkSpec spec,
            DistillSettings.Setting s,
            JavaRDD<DataSet> batches,
            JavaRDD<DataSet> holdout,
            LoadedModel teacher,
            int inputs,
            TrainBudget budget,
            String name) {
        MultiLayerConfiguration conf = spec.build(inputs, new DistillationLoss(s.alpha(), s.temperature()));
        // the student takes the teacher's raw rows: it scales them with the teacher's stored statistics
        FeatureScaling.of(teacher.net()).ifPresent(f -> f.attachTo(conf));
        // and names the classes as the teacher does
        ClassNames.of(teacher.net()).ifPresent(n -> n.attachTo(conf, spec.outputs()));
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        TrainJob.Fitted fitted = new TrainJob(ctx).fit(net, batches, holdout, name + "-" + s.name(), budget, 1, null);
        MultiLayerNetwork plain = withStandardLoss(fitted.net(), spec.task());
        Map<String, Double> m = new EvaluateJob(ctx).quality(plain, s.name());
        String metric = spec.task().metric();
        Console.out("candidate %-12s %s %.4f", s.name(), metric, m.get(metric));
        return new Student(s, plain, m, fitted.history());
    }

    private static Student best(List<Student> students, Task task) {
        Student chosen = students.get(0);
        for (Student s : students) {
            if (task.better(s.metrics().get(task.metric()), chosen.metrics().get(task.metric()))) {
                chosen = s;
            }
        }
        return chosen;
    }

    /** Saves the chosen student, evaluates it as {@code <model>-student}, records every student. */
    private Result store(
            LoadedModel teacher,
            DistillSettings settings,
            String teacherRun,
            String name,
            List<Student> students,
            Student chosen,
            Map<String, Double> teacherMetrics) {
        Task task = settings.student().task();
        String metric = task.metric();
        byte[] zip = ModelIO.toBytes(chosen.net());
        String uri = ctx.modelUri(ModelKind.STUDENT, teacher.name());
        ModelFiles.write(uri, ModelFormat.DL4J_ZIP, zip, ctx.hadoop());
        Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("temperature", chosen.setting().temperature());
        extra.put("alpha", chosen.setting().alpha());
        extra.put("teacher_" + metric, teacherMetrics.get(metric));
        extra.put("teacher_param_count", (double) teacher.net().numParams());
        students.stream()
                .filter(x -> x.setting().name().equals(DistillSettings.NO_KD))
                .findFirst()
                .ifPresent(b -> extra.put("no_kd_" + metric, b.metrics().get(metric)));
        Map<String, Double> evaluation = new EvaluateJob(ctx)
                .evaluate(
                        uri,
                        ModelFormat.DL4J_ZIP,
                        zip,
                        new EvaluateJob.Subject(name, ModelIO.sha256(zip), zip.length, "distilled"),
                        extra)
                .metrics();
        writeStudents(name, students, chosen, teacher, teacherRun, teacherMetrics, task);
        return new Result(
                name,
                students,
                chosen,
                uri,
                zip,
                settings,
                teacherRun,
                teacherMetrics,
                teacher.net().numParams(),
                evaluation);
    }

    /** A one-line summary of a result, for the command line and the demo. */
    public static String summary(Result r) {
        Student c = r.chosen();
        String m = c.metrics().containsKey("accuracy") ? "accuracy" : "mse";
        String noKd = r.students().stream()
                .filter(x -> x.setting().name().equals(DistillSettings.NO_KD))
                .findFirst()
                .map(b -> String.format(Locale.ROOT, ", no-KD %.4f", b.metrics().get(m)))
                .orElse("");
        return String.format(
                Locale.ROOT,
                "student %s: %s %.4f (teacher %.4f%s), %,d parameters = %.1f %% of the" + " teacher's",
                c.setting().name(),
                m,
                c.metrics().get(m),
                r.teacherMetrics().get(m),
                noKd,
                c.net().numParams(),
                100.0 * c.net().numParams() / r.teacherParams());
    }

    /**
     * The features of {@code data.train} joined once with the stored teacher outputs of run {@code run}, checked
     * against the teacher and the data the config names: same teacher sha256, same data set and version, as wide
     * as the student's outputs. Cached: every student trains on it.
     */
    Transfer joinedWithOutputs(LoadedModel teacher, DatasetSpec spec, String run, int outputs) {
        Dataset<Row> rows = TeacherOutputsJob.stored(ctx, run);
        List<Row> meta = rows.groupBy("teacher_sha256", "dataset", "dataset_version", "augmentation")
                .agg(functions.max("copy"))
                .collectAsList();
        if (meta.isEmpty()) {
            throw Errors.missingUpstream(
                    "teacher outputs",
                    run,
                    "teacher_outputs",
                    "teacher-outputs --run-id " + run + "` with this teacher and data",
                    "distill.teacher-run");
        }
        Row m = meta.get(0);
        if (meta.size() > 1 || !m.getString(0).equals(teacher.sha256())) {
            throw Errors.teacherMismatch(
                    run,
                    "come from teacher " + m.getString(0).substring(0, 12) + ", but the" + " config names teacher "
                            + teacher.sha256().substring(0, 12) + " (" + teacher.uri() + ").");
        }
        String version = SparkData.version(spec, ctx.hadoop());
        if (!m.getString(1).equals(spec.name()) || !m.getString(2).equals(version)) {
            throw Errors.teacherMismatch(
                    run,
                    "are of data set " + m.getString(1) + " version " + m.getString(2) + ", but data.train is "
                            + spec.name() + " version " + version + " (" + spec.uri() + ").");
        }
        int width =
                rows.select(functions.size(functions.col("outputs"))).first().getInt(0);
        if (width != outputs) {
            throw Errors.teacherMismatch(
                    run,
                    "have " + width + " values per example, but the student has" + " network.outputs = " + outputs
                            + ".");
        }
        Augmentation augment = Augmentation.parse(m.getString(3), m.getInt(4));
        SparkData.Loaded data = SparkData.load(ctx.spark(), SparkData.forModel(spec, teacher.net()));
        Dataset<Row> joined = data.rows()
                .join(
                        rows.select(
                                functions.col("row_id"),
                                functions.col("label").as("_stored_label"),
                                functions.col("outputs"),
                                functions.col("copy")),
                        "row_id");
        if (augment.enabled()) {
            // the join leaves an example's copies side by side: ordered by a hash of (row id, copy) instead, a
            // minibatch holds about as many different examples as rows
            joined = joined.sortWithinPartitions(functions.xxhash64(functions.col("row_id"), functions.col("copy")));
        }
        joined = joined.persist(StorageLevel.MEMORY_ONLY());
        checkAligned(run, rows.count(), joined);
        return new Transfer(
                new SparkData.Loaded(
                        spec, joined.select("row_id", "features", "label", "outputs", "copy"), data.inputs()),
                augment);
    }

    /**
     * The transfer set: {@code data.train}'s rows joined with their teacher outputs ({@code row_id, features, label,
     * outputs, copy}), one row per stored output, and how the stored copies were made.
     */
    record Transfer(SparkData.Loaded rows, Augmentation augment) {}

    /**
     * {@code joined} split into {@code [fit on, held out]} by example, not by row: a seeded share {@code fraction} of
     * the row ids with all their copies goes to neither side twice, and the held-out side keeps the examples as
     * they are (copy 0), what the student is judged on.
     */
    private SparkData.Loaded[] holdOutExamples(SparkData.Loaded joined, double fraction) {
        long seed = TrainSettings.from(ctx.config()).seed();
        Column held = functions
                .pmod(functions.xxhash64(functions.col("row_id"), functions.lit(seed)), functions.lit(1_000_000))
                .lt(functions.lit(Math.round(fraction * 1_000_000)));
        Dataset<Row> rows = joined.rows();
        return new SparkData.Loaded[] {
            new SparkData.Loaded(joined.spec(), rows.filter(functions.not(held)), joined.inputs()),
            new SparkData.Loaded(
                    joined.spec(), rows.filter(held.and(functions.col("copy").equalTo(0))), joined.inputs())
        };
    }

    /**
     * Every stored teacher output must join exactly one example of {@code data.train}, with the label stored next to
     * it: row ids are positions in the data set's files, so anything else means the data is not what the teacher
     * saw (edited in place, or reordered) and training would pair examples with other examples' teacher outputs.
     */
    private static void checkAligned(String run, long stored, Dataset<Row> joined) {
        Row r = joined.agg(
                        functions.count(functions.lit(1)),
                        functions.sum(functions
                                .when(functions.col("label").equalTo(functions.col("_stored_label")), 0)
                                // data without labels reads NaN, stored as null
                                .when(
                                        functions
                                                .isnan(functions.col("label"))
                                                .and(functions
                                                        .col("_stored_label")
                                                        .isNull()),
                                        0)
                                .otherwise(1)))
                .first();
        long matched = r.getLong(0);
        long otherLabel = r.isNullAt(1) ? 0 : r.getLong(1);
        if (matched != stored || otherLabel > 0) {
            joined.unpersist(false);
            throw Errors.teacherMismatch(
                    run,
                    String.format(
                            Locale.ROOT,
                            "do not line up with data.train: %,d of the %,d stored outputs joined an example by row"
                                    + " id, %,d of them one with another label (the data changed since they were"
                                    + " computed).",
                            matched,
                            stored,
                            otherLabel));
        }
    }

    /** What a row of the transfer set carries into its minibatch: the teacher's outputs, its row id and copy. */
    private record Carried(float[] outputs, long rowId, int copy) implements java.io.Serializable {}

    /**
     * Minibatches labelled {@code [hard targets | teacher outputs]}, as {@link DistillationLoss} reads them, the
     * features of every augmented copy made again from its example by {@code augment}, as the teacher saw them.
     */
    static JavaRDD<DataSet> distillationBatches(
            SparkData.Loaded joined, NetworkSpec spec, int batchSize, Augmentation augment) {
        int outputs = spec.outputs();
        return SparkData.batched(
                        joined,
                        joined.inputs(),
                        outputs,
                        spec.task(),
                        batchSize,
                        joined.spec().labeled(),
                        r -> new Carried(RowBatches.floats(r, 3), r.getLong(0), r.getInt(4)))
                .map(b -> {
                    List<Carried> carried = b.carried();
                    INDArray teacherOutputs =
                            Nd4j.create(carried.stream().map(Carried::outputs).toArray(float[][]::new));
                    INDArray hard = b.data().getLabels();
                    if (hard.size(1) != outputs) {
                        // regression: one target column per output
                        hard = hard.reshape(hard.size(0), outputs);
                    }
                    INDArray features = b.data().getFeatures();
                    if (augment.enabled()) {
                        features = augment.apply(
                                features,
                                carried.stream().mapToLong(Carried::rowId).toArray(),
                                carried.stream().mapToInt(Carried::copy).toArray());
                    }
                    return new DataSet(features, Nd4j.hstack(hard, teacherOutputs));
                });
    }

    /** The same parameters with the task's standard loss: a plain DL4J model that loads anywhere. */
    static MultiLayerNetwork withStandardLoss(MultiLayerNetwork net, Task task) {
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(
                net.getLayerWiseConfigurations().toJson());
        BaseOutputLayer out =
                (BaseOutputLayer) conf.getConf(net.getnLayers() - 1).getLayer();
        out.setLossFn(task == Task.CLASSIFICATION ? new LossMCXENT() : new LossMSE());
        MultiLayerNetwork plain = new MultiLayerNetwork(conf);
        plain.init(net.params().dup(), false);
        return plain;
    }

    private void writeStudents(
            String name,
            List<Student> students,
            Student chosen,
            LoadedModel teacher,
            String teacherRun,
            Map<String, Double> teacherMetrics,
            Task task) {
        Timestamp now = Timestamp.from(Instant.now());
        List<DistillCandidateRow> rows = new ArrayList<>();
        for (Student s : students) {
            double seconds = s.history().stream()
                    .mapToDouble(TrainJob.Epoch::epochSeconds)
                    .average()
                    .orElse(0);
            TrainJob.Epoch last = s.history().get(s.history().size() - 1);
            DistillSettings.Setting setting = s.setting();
            rows.add(new DistillCandidateRow(
                    ctx.runId(),
                    name,
                    setting.name(),
                    setting.alpha() == 0 ? null : setting.temperature(),
                    setting.alpha(),
                    teacher.sha256(),
                    teacherRun,
                    s.net().numParams(),
                    teacher.net().numParams(),
                    s.history().size(),
                    s.metrics().get(task.metric()),
                    s.metrics().get("loss"),
                    teacherMetrics.get(task.metric()),
                    seconds,
                    last.samplesPerSec(),
                    s == chosen,
                    now));
        }
        ctx.tables()
                .replace(Table.DISTILL_CANDIDATES, rows, Scope.run(ctx.runId()).and("student", name));
    }
}
