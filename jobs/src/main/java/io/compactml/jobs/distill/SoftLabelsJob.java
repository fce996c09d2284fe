package io.compactml.jobs.distill;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.ExampleBatcher;
import io.compactml.common.data.Task;
import io.compactml.common.distill.TeacherOutputs;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code soft-labels}: the teacher's outputs over the transfer set ({@code data.train}), computed once in one
 * distributed inference pass and written by the executors into {@code teacher_outputs}: per example its row id,
 * label and the teacher's logits (softmax classifier) or outputs (regression), with the teacher's sha256 and
 * the data set's version. Any number of students then learn from the table without running the teacher.
 */
public final class SoftLabelsJob {
    private final JobContext ctx;

    public SoftLabelsJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** What was written. */
    public record Result(String teacherSha256, String dataset, String datasetVersion, long rows, int outputs) {
    }

    public Result run() {
        return label(LoadedModel.read(ctx));
    }

    public Result label(LoadedModel teacher) {
        CompactConfig c = ctx.config();
        MultiLayerNetwork net = teacher.net();
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        Task task = ModelShapes.task(net);
        int expected = c.getInt("network.outputs");
        if (outputs != expected) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "Teacher " + teacher.uri() + " has "
                    + outputs + " outputs, but network.outputs (the " + (task == Task.CLASSIFICATION ? "classes"
                    : "targets") + " of the data and of the student) is " + expected + ". Use the teacher trained on"
                    + " these labels, or set network.outputs.");
        }
        DatasetSpec spec = DatasetSpec.from(c, "train");
        int batch = c.getInt("soft-labels.batch-size");
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, batch);
        String version = SparkData.version(spec, ctx.hadoop());
        String run = ctx.runId();
        String sha = teacher.sha256();
        String uri = teacher.uri();
        Broadcast<byte[]> zip = ctx.jsc().broadcast(teacher.zip());
        long t0 = System.nanoTime();
        double seconds;
        try {
            String column = spec.format().equals("idx") ? "images" : spec.features();
            JavaRDD<Row> rows = data.rows().toJavaRDD().mapPartitions((Iterator<Row> it) -> new Labeler(it,
                    ModelIO.fromBytes(zip.value(), uri), new ExampleBatcher(spec.name(), column, inputs, outputs,
                    task, spec.scaling(), batch), run, sha, spec.name(), version));
            ctx.tables().replace(Tables.Table.TEACHER_OUTPUTS, ctx.spark().createDataFrame(rows,
                    Tables.Table.TEACHER_OUTPUTS.schema()), "run_id = " + Tables.literal(run));
            seconds = (System.nanoTime() - t0) / 1e9;
        } finally {
            zip.destroy();
        }
        long n = ctx.tables().read(Tables.Table.TEACHER_OUTPUTS).filter("run_id = " + Tables.literal(run)).count();
        Console.out("soft labels: %,d examples of %s (version %s) through teacher %s in %.2f s (inference and"
                + " table write)", n, spec.name(), version, sha.substring(0, 12), seconds);
        if (n == 0) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "Data set " + spec.name() + " ("
                    + spec.uri() + ") is empty. Point '" + spec.key() + "' at data with examples.");
        }
        return new Result(sha, spec.name(), version, n, outputs);
    }

    /** Rows of a partition to teacher-output rows, one minibatch at a time (checked by the batcher). */
    private static final class Labeler implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final MultiLayerNetwork teacher;
        private final ExampleBatcher batcher;
        private final Object[] fixed;
        private final List<Long> ids = new ArrayList<>();
        private final List<Double> labels = new ArrayList<>();
        private final List<Row> ready = new ArrayList<>();
        private int next;

        Labeler(Iterator<Row> rows, MultiLayerNetwork teacher, ExampleBatcher batcher, String run, String sha,
                String dataset, String version) {
            this.rows = rows;
            this.teacher = teacher;
            this.batcher = batcher;
            this.fixed = new Object[] {run, sha, dataset, version};
        }

        @Override
        public boolean hasNext() {
            while (next == ready.size()) {
                ready.clear();
                next = 0;
                DataSet ds = null;
                while (ds == null && rows.hasNext()) {
                    Row r = rows.next();
                    ids.add(r.getLong(0));
                    double label = r.isNullAt(2) ? Double.NaN : r.getDouble(2);
                    labels.add(label);
                    ds = batcher.add(r.getLong(0), SparkData.toFloats(r.getList(1)), label);
                }
                if (ds == null) {
                    ds = batcher.flush();
                }
                if (ds == null) {
                    return false;
                }
                INDArray z = TeacherOutputs.of(teacher, ds.getFeatures());
                float[][] out = z.toFloatMatrix();
                for (int i = 0; i < out.length; i++) {
                    // a float[] is what Spark's row encoder takes for array<float> (as the IDX reader's rows)
                    ready.add(RowFactory.create(fixed[0], fixed[1], fixed[2], fixed[3], ids.get(i), labels.get(i),
                            out[i]));
                }
                ids.clear();
                labels.clear();
            }
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.get(next++);
        }
    }
}
