package io.compactml.jobs.distill;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.jobs.train.TrainJob;
import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.ExampleBatcher;
import io.compactml.common.data.Task;
import io.compactml.common.distill.DistillationLoss;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.model.NetworkSpec;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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
 * {@code soft-labels} stored, one candidate per {@code distill.settings} entry ("T:alpha") plus, with
 * {@code distill.no-kd-baseline}, the same student on hard labels only. The features of {@code data.train} are
 * joined with the stored outputs once; every minibatch carries {@code [hard targets | teacher outputs]} as its
 * labels for {@link DistillationLoss}. The teacher is never run.
 *
 * <p>Each candidate is trained data-parallel on the whole cluster (parameter averaging, like {@code train}),
 * one after another, with the same seed, epochs and minibatches; its epochs are {@code training_history} rows
 * under {@code <model>-student-<candidate>}, and it is evaluated on {@code data.eval}. The best by accuracy
 * (classification) or MSE (regression) is saved with the task's standard loss as
 * {@code models.root/<model>-student/<run-id>/model.zip}, a plain DL4J model, and evaluated as
 * {@code <model>-student} (technique distilled). Every candidate is a row of {@code distill_candidates}.
 */
public final class DistillJob {
    public static final String NO_KD = "no-kd";

    private final JobContext ctx;

    public DistillJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** One candidate's setting: temperature and weight of the teacher term. */
    public record Setting(String name, double temperature, double alpha) {
    }

    /** One trained candidate. */
    public record Candidate(Setting setting, MultiLayerNetwork net, Map<String, Double> metrics,
                            List<TrainJob.Epoch> history) {
    }

    /** Every candidate, the chosen one, and the teacher's quality on the same data. */
    public record Result(List<Candidate> candidates, Candidate chosen, String uri, byte[] zip,
                         Map<String, Double> teacherMetrics, long teacherParams, Map<String, Double> evaluation) {
    }

    public static String studentName(JobContext ctx) {
        return ctx.config().getString("model.name") + "-student";
    }

    public static String studentUri(JobContext ctx) {
        return ctx.modelFileUri(studentName(ctx), ctx.runId(), "model.zip");
    }

    /** The run id whose teacher outputs {@code distill} reads. */
    public static String teacherRun(JobContext ctx) {
        String run = ctx.config().getString("distill.teacher-run");
        return run.isEmpty() ? ctx.runId() : run;
    }

    /** Parses {@code distill.settings} (and the baseline), refusing a bad temperature or alpha. */
    static List<Setting> settings(CompactConfig c) {
        List<Setting> out = new ArrayList<>();
        for (String s : c.getStringList("distill.settings")) {
            String[] parts = s.split(":");
            double t;
            double a;
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                t = Double.parseDouble(parts[0].trim());
                a = Double.parseDouble(parts[1].trim());
            } catch (NumberFormatException e) {
                throw Errors.badConfigValue("distill.settings", c.getStringList("distill.settings"),
                        "entries \"T:alpha\" such as \"4:0.7\"; '" + s + "' is not one");
            }
            if (!(t > 0) || Double.isInfinite(t)) {
                throw Errors.badConfigValue("distill.settings", s, "a temperature T > 0 in \"T:alpha\"");
            }
            if (!(a >= 0 && a <= 1)) {
                throw Errors.badConfigValue("distill.settings", s, "an alpha in [0, 1] in \"T:alpha\"");
            }
            out.add(new Setting(String.format(Locale.ROOT, "T%s-a%s", trim(t), trim(a)), t, a));
        }
        if (c.getBoolean("distill.no-kd-baseline")) {
            out.add(new Setting(NO_KD, 1.0, 0.0));
        }
        if (out.isEmpty()) {
            throw Errors.badConfigValue("distill.settings", List.of(), "at least one \"T:alpha\" entry, or"
                    + " distill.no-kd-baseline = true");
        }
        return out;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    public Result run() {
        return distill(LoadedModel.read(ctx));
    }

    /** Trains the students from the teacher outputs of {@code teacher}, which must be what they were made with. */
    public Result distill(LoadedModel teacher) {
        CompactConfig c = ctx.config();
        List<Setting> settings = settings(c);
        DatasetSpec spec = DatasetSpec.from(c, "train");
        NetworkSpec studentSpec = NetworkSpec.student(c);
        int outputs = studentSpec.outputs();
        Task task = studentSpec.task();
        Dataset<Row> stored = teacherOutputs(teacher, spec, outputs);

        SparkData.Loaded data = SparkData.load(ctx.spark(), spec);
        int inputs = data.inputs();
        int batch = c.getInt("train.batch-size");
        Dataset<Row> joined = data.rows().join(stored, "row_id").select("row_id", "features", "label", "outputs")
                .persist(StorageLevel.MEMORY_ONLY());
        String column = spec.format().equals("idx") ? "images" : spec.features();
        JavaRDD<DataSet> batches = joined.toJavaRDD().mapPartitions((Iterator<Row> it) -> new DistillBatches(it,
                new ExampleBatcher(spec.name(), column, inputs, outputs, task, spec.scaling(), batch), outputs));
        try {
            long examples = joined.count();
            Console.out("distill: %,d examples of %s joined with the outputs of teacher %s (soft-labels run %s);"
                    + " %d candidates", examples, spec.name(), teacher.sha256().substring(0, 12), teacherRun(ctx),
                    settings.size());
            EvaluateJob evaluator = new EvaluateJob(ctx);
            Map<String, Double> teacherMetrics = evaluator.quality(teacher.net(), "teacher");
            List<Candidate> candidates = new ArrayList<>();
            for (Setting s : settings) {
                MultiLayerNetwork net = new MultiLayerNetwork(studentSpec.build(inputs,
                        new DistillationLoss(s.alpha(), s.temperature())));
                net.init();
                TrainJob.Fitted fitted = new TrainJob(ctx).fit(net, batches, studentName(ctx) + "-" + s.name(),
                        c.getInt("distill.epochs"), null);
                MultiLayerNetwork plain = withStandardLoss(fitted.net(), task);
                Map<String, Double> m = evaluator.quality(plain, s.name());
                candidates.add(new Candidate(s, plain, m, fitted.history()));
                Console.out("candidate %-12s %s %.4f", s.name(), metric(task), m.get(metric(task)));
            }
            Candidate chosen = candidates.get(0);
            for (Candidate cand : candidates) {
                if (better(task, cand.metrics(), chosen.metrics())) {
                    chosen = cand;
                }
            }
            byte[] zip = ModelIO.toBytes(chosen.net());
            String uri = studentUri(ctx);
            ModelIO.writeBytes(uri, zip, ctx.hadoop());
            Map<String, Double> extra = new LinkedHashMap<>();
            extra.put("temperature", chosen.setting().temperature());
            extra.put("alpha", chosen.setting().alpha());
            extra.put("teacher_" + metric(task), teacherMetrics.get(metric(task)));
            extra.put("teacher_param_count", (double) teacher.net().numParams());
            candidates.stream().filter(x -> x.setting().name().equals(NO_KD)).findFirst()
                    .ifPresent(b -> extra.put("no_kd_" + metric(task), b.metrics().get(metric(task))));
            Map<String, Double> evaluation = new EvaluateJob(ctx).evaluate(uri, zip, chosen.net(),
                    new EvaluateJob.Subject(studentName(ctx), ModelIO.sha256(zip), zip.length, "distilled"), extra)
                    .metrics();
            writeCandidates(candidates, chosen, teacher, teacherMetrics, task);
            return new Result(candidates, chosen, uri, zip, teacherMetrics, teacher.net().numParams(), evaluation);
        } finally {
            joined.unpersist();
        }
    }

    /** A one-line summary of a result, for the command line and the demo. */
    public static String summary(Result r) {
        Candidate c = r.chosen();
        boolean classification = c.metrics().containsKey("accuracy");
        String m = classification ? "accuracy" : "mse";
        String noKd = r.candidates().stream().filter(x -> x.setting().name().equals(NO_KD)).findFirst()
                .map(b -> String.format(Locale.ROOT, ", no-KD %.4f", b.metrics().get(m))).orElse("");
        return String.format(Locale.ROOT, "student %s: %s %.4f (teacher %.4f%s), %,d parameters = %.1f %% of the"
                        + " teacher's", c.setting().name(), m, c.metrics().get(m), r.teacherMetrics().get(m), noKd,
                c.net().numParams(), 100.0 * c.net().numParams() / r.teacherParams());
    }

    private static String metric(Task task) {
        return task == Task.CLASSIFICATION ? "accuracy" : "mse";
    }

    private static boolean better(Task task, Map<String, Double> a, Map<String, Double> b) {
        return task == Task.CLASSIFICATION ? a.get("accuracy") > b.get("accuracy") : a.get("mse") < b.get("mse");
    }

    /**
     * This run's teacher outputs, checked against the teacher and the data the config names: same teacher
     * sha256, same data set and version, as wide as the student's outputs.
     */
    private Dataset<Row> teacherOutputs(LoadedModel teacher, DatasetSpec spec, int outputs) {
        String run = teacherRun(ctx);
        String hint = " Run `compactml soft-labels --run-id " + run + "` with this teacher and data first, or set"
                + " distill.teacher-run.";
        if (!ctx.tables().exists(Tables.Table.TEACHER_OUTPUTS)) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "No teacher_outputs table." + hint);
        }
        Dataset<Row> rows = ctx.tables().read(Tables.Table.TEACHER_OUTPUTS).filter("run_id = " + Tables.literal(run));
        List<Row> meta = rows.select("teacher_sha256", "dataset", "dataset_version").distinct().collectAsList();
        if (meta.isEmpty()) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "No teacher outputs under run id '" + run
                    + "'." + hint);
        }
        Row m = meta.get(0);
        if (meta.size() > 1 || !m.getString(0).equals(teacher.sha256())) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "The teacher outputs of run '" + run
                    + "' come from teacher " + m.getString(0).substring(0, 12) + ", but the config names teacher "
                    + teacher.sha256().substring(0, 12) + " (" + teacher.uri() + ")." + hint);
        }
        String version = SparkData.version(spec, ctx.hadoop());
        if (!m.getString(1).equals(spec.name()) || !m.getString(2).equals(version)) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "The teacher outputs of run '" + run
                    + "' are of data set " + m.getString(1) + " version " + m.getString(2) + ", but data.train is "
                    + spec.name() + " version " + version + " (" + spec.uri() + ")." + hint);
        }
        int width = rows.select(functions.size(functions.col("outputs"))).first().getInt(0);
        if (width != outputs) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "The teacher outputs of run '" + run
                    + "' have " + width + " values per example, but the student has network.outputs = " + outputs
                    + ". Use a teacher trained on these labels.");
        }
        return rows.select("row_id", "outputs");
    }

    /** The same parameters with the task's standard loss: a plain DL4J model that loads anywhere. */
    static MultiLayerNetwork withStandardLoss(MultiLayerNetwork net, Task task) {
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson());
        BaseOutputLayer out = (BaseOutputLayer) conf.getConf(net.getnLayers() - 1).getLayer();
        out.setLossFn(task == Task.CLASSIFICATION ? new LossMCXENT() : new LossMSE());
        MultiLayerNetwork plain = new MultiLayerNetwork(conf);
        plain.init(net.params().dup(), false);
        return plain;
    }

    private void writeCandidates(List<Candidate> candidates, Candidate chosen, LoadedModel teacher,
                                 Map<String, Double> teacherMetrics, Task task) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        for (Candidate cand : candidates) {
            double seconds = cand.history().stream().mapToDouble(TrainJob.Epoch::epochSeconds).average().orElse(0);
            TrainJob.Epoch last = cand.history().get(cand.history().size() - 1);
            rows.add(RowFactory.create(ctx.runId(), studentName(ctx), cand.setting().name(),
                    cand.setting().alpha() == 0 ? null : cand.setting().temperature(), cand.setting().alpha(),
                    teacher.sha256(), teacherRun(ctx), cand.net().numParams(), teacher.net().numParams(),
                    cand.history().size(), cand.metrics().get(metric(task)), cand.metrics().get("loss"),
                    teacherMetrics.get(metric(task)), seconds, last.samplesPerSec(), cand == chosen, now));
        }
        ctx.tables().replace(Tables.Table.DISTILL_CANDIDATES, rows, "run_id = " + Tables.literal(ctx.runId())
                + " AND student = " + Tables.literal(studentName(ctx)));
    }

    /** Rows (row id, features, label, teacher outputs) to minibatches labelled [hard targets | teacher outputs]. */
    private static final class DistillBatches implements Iterator<DataSet> {
        private final Iterator<Row> rows;
        private final ExampleBatcher batcher;
        private final int outputs;
        private final List<float[]> teacher = new ArrayList<>();
        private DataSet next;

        DistillBatches(Iterator<Row> rows, ExampleBatcher batcher, int outputs) {
            this.rows = rows;
            this.batcher = batcher;
            this.outputs = outputs;
        }

        @Override
        public boolean hasNext() {
            if (next != null) {
                return true;
            }
            DataSet ds = null;
            while (ds == null && rows.hasNext()) {
                Row r = rows.next();
                teacher.add(SparkData.toFloats(r.getList(3)));
                ds = batcher.add(r.getLong(0), SparkData.toFloats(r.getList(1)),
                        r.isNullAt(2) ? Double.NaN : r.getDouble(2));
            }
            if (ds == null) {
                ds = batcher.flush();
            }
            if (ds == null) {
                return false;
            }
            INDArray t = Nd4j.create(teacher.toArray(new float[0][]));
            teacher.clear();
            INDArray hard = ds.getLabels();
            if (hard.size(1) != outputs) {
                // regression: one target column per output
                hard = hard.reshape(hard.size(0), outputs);
            }
            next = new DataSet(ds.getFeatures(), Nd4j.hstack(hard, t));
            return true;
        }

        @Override
        public DataSet next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            DataSet d = next;
            next = null;
            return d;
        }
    }
}
