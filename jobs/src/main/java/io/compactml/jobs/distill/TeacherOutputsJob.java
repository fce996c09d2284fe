package io.compactml.jobs.distill;

import io.compactml.common.Errors;
import io.compactml.common.data.Augmentation;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.distill.DistillSettings;
import io.compactml.common.distill.TeacherOutputs;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.jobs.data.RowBatches;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.tables.TeacherOutputRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.StreamSupport;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code teacher-outputs} (formerly {@code soft-labels}): the teacher's outputs over the transfer set
 * ({@code data.train}, and {@code teacher-outputs.augment.count} augmented copies of each image, see
 * {@link Augmentation}), computed once in one distributed inference pass and written by the executors into
 * {@code teacher_outputs}: per example its row id, label (null for data without labels) and the teacher's logits (softmax classifier) or outputs
 * (regression), with the teacher's sha256 and the data set's version. The teacher runs in ONNX Runtime (its float
 * graph cut at the logits, {@link OnnxExport#logits}) or in DL4J ({@code teacher-outputs.runtime}); the two agree
 * within float rounding. Any number of students then learn from the
 * table without running the teacher.
 */
public final class TeacherOutputsJob {
    private final JobContext ctx;

    public TeacherOutputsJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** What was written. */
    public record Result(String teacherSha256, String dataset, String datasetVersion, long rows, int outputs) {}

    /** A row's id and label, carried to the teacher's outputs for it. */
    private record Example(long rowId, double label) {}

    public Result run() {
        return label(LoadedModel.read(ctx), DistillSettings.from(ctx.config()));
    }

    public Result label(LoadedModel teacher, DistillSettings settings) {
        MultiLayerNetwork net = teacher.net();
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        Task task = ModelShapes.task(net);
        if (outputs != settings.student().outputs()) {
            throw Errors.teacherOutputsWidth(
                    teacher.uri(), outputs, settings.student().outputs(), task == Task.CLASSIFICATION);
        }
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "train");
        int batch = settings.teacherBatchSize();
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, net, batch);
        String version = SparkData.version(spec, ctx.hadoop());
        Augmentation augment = Augmentation.from(ctx.config(), inputs);
        Stamp stamp = new Stamp(ctx.runId(), teacher.sha256(), spec.name(), version, augment);
        String uri = teacher.uri();
        boolean onnx = settings.teacherRuntime() == ServingRuntime.ONNXRUNTIME;
        Broadcast<byte[]> shipped = ctx.jsc().broadcast(onnx ? OnnxExport.logits(net) : teacher.zip());
        long t0 = System.nanoTime();
        double seconds;
        try {
            JavaRDD<Row> rows = SparkData.batched(
                            data,
                            inputs,
                            outputs,
                            task,
                            batch,
                            spec.labeled(),
                            r -> new Example(r.getLong(0), RowBatches.label(r)))
                    .mapPartitions(batches -> label(batches, logits(onnx, shipped.value(), uri), stamp));
            ctx.tables()
                    .replace(
                            Table.TEACHER_OUTPUTS,
                            ctx.spark().createDataFrame(rows, Table.TEACHER_OUTPUTS.schema()),
                            Scope.run(ctx.runId()));
            seconds = (System.nanoTime() - t0) / 1e9;
        } finally {
            shipped.destroy();
        }
        long n =
                ctx.tables().read(Table.TEACHER_OUTPUTS, Scope.run(ctx.runId())).count();
        Console.out(
                "teacher outputs: %,d examples of %s (version %s)%s through teacher %s in %.2f s (%s inference and"
                        + " table write)",
                n,
                spec.name(),
                version,
                augment.enabled()
                        ? String.format(
                                Locale.ROOT,
                                ", %,d of them and %d augmented copies of each (%s)",
                                n / (augment.count() + 1),
                                augment.count(),
                                augment.describe())
                        : "",
                teacher.sha256().substring(0, 12),
                seconds,
                settings.teacherRuntime().id());
        if (n == 0) {
            throw Errors.emptyDataset(spec);
        }
        return new Result(teacher.sha256(), spec.name(), version, n, outputs);
    }

    /**
     * The {@code teacher_outputs} rows of run {@code run}, {@code copy} and {@code augmentation} read as 0 and null
     * where a table written before augmented copies lacks them.
     */
    public static Dataset<Row> stored(JobContext ctx, String run) {
        Dataset<Row> rows = ctx.tables().read(Table.TEACHER_OUTPUTS, Scope.run(run));
        List<String> columns = List.of(rows.columns());
        Dataset<Row> out = columns.contains("augmentation")
                ? rows
                : rows.withColumn("augmentation", functions.lit(null).cast("string"));
        return out.withColumn(
                "copy",
                columns.contains("copy")
                        ? functions.coalesce(functions.col("copy"), functions.lit(0))
                        : functions.lit(0));
    }

    /** What every row of this run records about where its outputs came from. */
    private record Stamp(
            String runId, String teacherSha256, String dataset, String datasetVersion, Augmentation augment)
            implements java.io.Serializable {}

    /**
     * The teacher of this task, from its broadcast form: the {@link OnnxExport#logits} graph loaded in ONNX Runtime
     * once per partition (one intra-op thread: a task has one core; closed when the task completes) or the DL4J
     * network deserialized once per partition.
     */
    private static Function<INDArray, float[][]> logits(boolean onnx, byte[] shipped, String uri) {
        if (onnx) {
            OnnxSession session = OnnxSession.of(shipped, 1);
            TaskContext task = TaskContext.get();
            if (task != null) {
                task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) done -> session.close());
            }
            return features -> TeacherOutputs.of(session, features);
        }
        MultiLayerNetwork net = ModelIO.fromBytes(shipped, uri);
        return features -> TeacherOutputs.of(net, features).toFloatMatrix();
    }

    /**
     * The teacher's outputs for each minibatch and for each of its augmented copies ({@code stamp.augment()}), as
     * table rows, one minibatch at a time.
     */
    private static Iterator<Row> label(
            Iterator<RowBatches.Batch<Example>> batches, Function<INDArray, float[][]> teacher, Stamp stamp) {
        Spliterator<RowBatches.Batch<Example>> each = Spliterators.spliteratorUnknownSize(batches, Spliterator.ORDERED);
        Augmentation augment = stamp.augment();
        return StreamSupport.stream(each, false)
                .flatMap(b -> {
                    List<Example> examples = b.carried();
                    long[] ids = examples.stream().mapToLong(Example::rowId).toArray();
                    INDArray features = b.data().getFeatures();
                    List<Row> rows = new ArrayList<>(examples.size() * (augment.count() + 1));
                    for (int copy = 0; copy <= augment.count(); copy++) {
                        int[] copies = new int[ids.length];
                        Arrays.fill(copies, copy);
                        float[][] out = teacher.apply(copy == 0 ? features : augment.apply(features, ids, copies));
                        for (int i = 0; i < out.length; i++) {
                            Example e = examples.get(i);
                            // unlabeled data passes the batcher unchecked: a NaN feature shows in the outputs
                            for (float v : out[i]) {
                                if (!Float.isFinite(v)) {
                                    throw Errors.notFinite(stamp.dataset(), e.rowId(), "a feature");
                                }
                            }
                            rows.add(new TeacherOutputRow(
                                            stamp.runId(),
                                            stamp.teacherSha256(),
                                            stamp.dataset(),
                                            stamp.datasetVersion(),
                                            e.rowId(),
                                            Double.isNaN(e.label()) ? null : e.label(),
                                            out[i],
                                            copy,
                                            augment.describe())
                                    .toRow());
                        }
                    }
                    return rows.stream();
                })
                .iterator();
    }
}
