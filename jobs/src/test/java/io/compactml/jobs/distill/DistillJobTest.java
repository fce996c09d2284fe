package io.compactml.jobs.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.Augmentation;
import io.compactml.common.distill.DistillSettings;
import io.compactml.common.distill.TeacherOutputs;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.ModelIO;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Teacher (784-128-10) on a slice of Fashion-MNIST, its outputs stored once, students distilled from them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DistillJobTest {
    private JobContext ctx;
    private LoadedModel teacher;
    private TeacherOutputsJob.Result labels;
    private long teacherInferences;

    @BeforeAll
    void trainTeacherAndStoreItsOutputs() {
        ctx = SharedSpark.context(
                "d-1",
                "data.train.limit=2000",
                "data.eval.limit=1000",
                "train.epochs=3",
                "network.hidden=[128]",
                "train.batch-size=64",
                "train.averaging-frequency=4",
                "train.validate=false",
                "distill.student.hidden=[16]",
                "distill.settings=[\"4:0.7\"]",
                "distill.learning-rate=0.01",
                "distill.epochs=4");
        TrainJob.Result trained = new TrainJob(ctx).run();
        teacher = trained.model("fmnist-mlp");
        long before = TeacherOutputs.INFERENCES.get();
        labels = new TeacherOutputsJob(ctx).label(teacher, DistillSettings.from(ctx.config()));
        teacherInferences = TeacherOutputs.INFERENCES.get() - before;
    }

    private JobContext with(String key, Object value) {
        return JobContext.of(ctx.spark(), ctx.config().with(key, value), ctx.runId());
    }

    @Test
    void softLabelsStoreTheTeachersLogitsOncePerExample() {
        assertEquals(2000, labels.rows());
        assertEquals(2000, teacherInferences, "one teacher inference per example");
        List<Row> rows = ctx.tables()
                .read(Table.TEACHER_OUTPUTS)
                .filter("run_id = 'd-1' AND row_id = 7")
                .collectAsList();
        assertEquals(1, rows.size());
        Row r = rows.get(0);
        assertEquals(teacher.sha256(), r.getString(r.fieldIndex("teacher_sha256")));
        assertEquals(labels.datasetVersion(), r.getString(r.fieldIndex("dataset_version")));
        // the stored logits are the teacher's: their softmax is what the teacher outputs for row 7
        List<Float> z = r.getList(r.fieldIndex("outputs"));
        double[] p = softmax(z);
        double[] expected = teacher.net().output(image(7)).toDoubleVector();
        for (int j = 0; j < 10; j++) {
            assertEquals(expected[j], p[j], 1e-5, "class " + j);
        }
    }

    @Test
    void theTeacherGivesTheSameLogitsInDl4jAsInOnnxRuntime() {
        JobContext dl4j = JobContext.of(ctx.spark(), ctx.config().with("teacher-outputs.runtime", "dl4j"), "d-dl4j");
        assertEquals(
                ServingRuntime.ONNXRUNTIME, DistillSettings.from(ctx.config()).teacherRuntime());
        new TeacherOutputsJob(dl4j).label(teacher, DistillSettings.from(dl4j.config()));
        List<Row> pairs = ctx.tables()
                .read(Table.TEACHER_OUTPUTS)
                .filter("run_id = 'd-1'")
                .alias("o")
                .join(
                        ctx.tables()
                                .read(Table.TEACHER_OUTPUTS)
                                .filter("run_id = 'd-dl4j'")
                                .alias("d"),
                        "row_id")
                .select("o.outputs", "d.outputs")
                .collectAsList();
        assertEquals(2000, pairs.size());
        double worst = 0;
        for (Row r : pairs) {
            List<Float> o = r.getList(0);
            List<Float> d = r.getList(1);
            for (int j = 0; j < 10; j++) {
                worst = Math.max(worst, Math.abs(o.get(j) - d.get(j)));
            }
        }
        assertTrue(worst <= 1e-4, "max |ONNX Runtime - DL4J| over 2,000 x 10 logits = " + worst);
    }

    @Test
    void augmentedCopiesAreLabelledByTheTeacherAndRemadeByDistillAsItSawThem() {
        JobContext aug = JobContext.of(
                ctx.spark(),
                ctx.config().with("teacher-outputs.augment.count", 2).with("teacher-outputs.augment.seed", 3),
                "d-aug");
        long before = TeacherOutputs.INFERENCES.get();
        TeacherOutputsJob.Result r = new TeacherOutputsJob(aug).label(teacher, DistillSettings.from(aug.config()));
        assertEquals(6000, r.rows(), "2,000 examples and 2 copies of each");
        assertEquals(6000, TeacherOutputs.INFERENCES.get() - before, "one teacher inference per copy");
        List<Row> row7 = ctx.tables()
                .read(Table.TEACHER_OUTPUTS)
                .filter("run_id = 'd-aug' AND row_id = 7")
                .orderBy("copy")
                .collectAsList();
        assertEquals(3, row7.size());
        Augmentation a = new Augmentation(2, 3, 2, true, 28, 28, 1);
        for (Row o : row7) {
            int copy = o.getInt(o.fieldIndex("copy"));
            assertEquals("shift<=2 flip=true seed=3 image=28x28x1", o.getString(o.fieldIndex("augmentation")));
            // the stored logits are the teacher's on the copy, made here by hand from its draws
            float[] x = image(7).toFloatVector();
            if (copy > 0) {
                Augmentation.Transform t = a.transform(7, copy);
                float[] moved = new float[784];
                for (int y = 0; y < 28; y++) {
                    for (int col = 0; col < 28; col++) {
                        int sy = y - t.dy();
                        int sx = col - t.dx();
                        if (sy >= 0 && sy < 28 && sx >= 0 && sx < 28) {
                            moved[y * 28 + col] = x[sy * 28 + (t.mirrored() ? 27 - sx : sx)];
                        }
                    }
                }
                x = moved;
            }
            double[] p = softmax(o.getList(o.fieldIndex("outputs")));
            double[] expected = teacher.net()
                    .output(org.nd4j.linalg.factory.Nd4j.create(x, new long[] {1, 784}, 'c'))
                    .toDoubleVector();
            for (int j = 0; j < 10; j++) {
                assertEquals(expected[j], p[j], 1e-5, "copy " + copy + ", class " + j);
            }
        }
        // distill makes every copy again from its example: the teacher's logits on its minibatches' features are
        // the stored ones it trains on
        DistillJob.Transfer transfer = new DistillJob(aug)
                .joinedWithOutputs(
                        teacher, io.compactml.common.data.DatasetSpec.from(aug.config(), "train"), "d-aug", 10);
        try {
            assertEquals(a, transfer.augment());
            List<org.nd4j.linalg.dataset.DataSet> batches = DistillJob.distillationBatches(
                            transfer.rows(), DistillSettings.from(aug.config()).student(), 256, transfer.augment())
                    .collect();
            long rows = 0;
            double worst = 0;
            for (org.nd4j.linalg.dataset.DataSet b : batches) {
                INDArray logits = TeacherOutputs.of(teacher.net(), b.getFeatures());
                INDArray stored = b.getLabels()
                        .get(
                                org.nd4j.linalg.indexing.NDArrayIndex.all(),
                                org.nd4j.linalg.indexing.NDArrayIndex.interval(10, 20));
                worst = Math.max(worst, logits.sub(stored).amax().getDouble(0));
                rows += b.numExamples();
            }
            assertEquals(6000, rows);
            assertTrue(worst <= 1e-4, "max |teacher on distill's features - stored logits| = " + worst);
        } finally {
            transfer.rows().rows().unpersist();
        }
    }

    @Test
    void outputsStoredBeforeCopiesExistedReadAsTheExamplesThemselves(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        JobContext old = JobContext.of(ctx.spark(), ctx.config().with("tables.root", dir.toString()), "d-old");
        // teacher_outputs as written before augmented copies: no copy, no augmentation column
        org.apache.spark.sql.types.StructType before =
                new org.apache.spark.sql.types.StructType(java.util.Arrays.copyOf(
                        Table.TEACHER_OUTPUTS.schema().fields(),
                        Table.TEACHER_OUTPUTS.schema().fields().length - 2));
        ctx.spark()
                .createDataFrame(
                        List.of(org.apache.spark.sql.RowFactory.create(
                                "d-old", "sha", "ds", "v1", 7L, 1.0, new float[] {0.5f, -0.5f})),
                        before)
                .write()
                .format("delta")
                .save(old.tables().path(Table.TEACHER_OUTPUTS));
        Row r = TeacherOutputsJob.stored(old, "d-old").first();
        assertEquals(0, r.getInt(r.fieldIndex("copy")));
        assertTrue(r.isNullAt(r.fieldIndex("augmentation")));
        // a run of this version adds the columns to the table (null in the old rows), read the same way
        new TeacherOutputsJob(JobContext.of(ctx.spark(), old.config(), "d-new"))
                .label(teacher, DistillSettings.from(old.config()));
        Row again = TeacherOutputsJob.stored(old, "d-old").first();
        assertEquals(0, again.getInt(again.fieldIndex("copy")));
        assertTrue(again.isNullAt(again.fieldIndex("augmentation")));
        assertEquals(
                2000, TeacherOutputsJob.stored(old, "d-new").filter("copy = 0").count(), "the new run's own rows");
    }

    @Test
    void aTransferSetWithoutLabelsTeachesTheStudentsFromTheTeacherAlone() {
        JobContext unlabeled =
                JobContext.of(ctx.spark(), ctx.config().with("data.train.labels-uri", ""), "d-unlabeled");
        TeacherOutputsJob.Result r =
                new TeacherOutputsJob(unlabeled).label(teacher, DistillSettings.from(unlabeled.config()));
        assertEquals(2000, r.rows());
        assertEquals(
                0,
                ctx.tables()
                        .read(Table.TEACHER_OUTPUTS)
                        .filter("run_id = 'd-unlabeled' AND label IS NOT NULL")
                        .count(),
                "no labels stored");
        DistillJob.Result d = new DistillJob(unlabeled).distill(teacher, DistillSettings.from(unlabeled.config()));
        assertEquals(
                List.of("T4-a0.7"),
                d.students().stream().map(c -> c.setting().name()).toList(),
                "no hard-label baseline: it would have nothing to learn from");
        // the labelled run's students reach 0.6 on the same budget (above); from the teacher alone as well
        double accuracy = d.chosen().metrics().get("accuracy");
        assertTrue(accuracy > 0.6, "accuracy " + accuracy);
        CompactMLException labelsOnly = assertThrows(
                CompactMLException.class,
                () -> new DistillJob(unlabeled)
                        .distill(
                                teacher,
                                DistillSettings.from(
                                        unlabeled.config().with("distill.settings", List.of("4:0.7", "2:0")))));
        assertEquals(2, labelsOnly.exitCode());
        assertTrue(
                labelsOnly.getMessage().contains("T2-a0 (alpha 0) learns from labels only")
                        && labelsOnly.getMessage().contains("has no labels"),
                labelsOnly.getMessage());
    }

    @Test
    void studentsLearnFromTheTableWithoutRunningTheTeacher() {
        long before = TeacherOutputs.INFERENCES.get();
        DistillJob.Result r = new DistillJob(ctx).distill(teacher, DistillSettings.from(ctx.config()));
        assertEquals(0, TeacherOutputs.INFERENCES.get() - before, "no teacher inference during distill");
        assertEquals(
                List.of("T4-a0.7", DistillSettings.NO_KD),
                r.students().stream().map(c -> c.setting().name()).toList());
        for (DistillJob.Student c : r.students()) {
            assertTrue(
                    c.metrics().get("accuracy") > 0.6,
                    c.setting() + " " + c.metrics().get("accuracy"));
            assertEquals(784 * 16 + 16 + 16 * 10 + 10, c.net().numParams());
        }
        // the chosen student is a plain DL4J model: standard loss, loads without CompactML's classes
        assertTrue(
                ((OutputLayer) ModelIO.fromBytes(r.zip(), "student")
                                        .getLayerWiseConfigurations()
                                        .getConf(1)
                                        .getLayer())
                                .getLossFn()
                        instanceof LossMCXENT);
        List<Row> rows = ctx.tables()
                .read(Table.DISTILL_CANDIDATES)
                .filter("run_id = 'd-1'")
                .collectAsList();
        assertEquals(2, rows.size());
        assertEquals(
                1,
                rows.stream().filter(x -> x.getBoolean(x.fieldIndex("chosen"))).count());
        List<Row> history = ctx.tables()
                .read(Table.TRAINING_HISTORY)
                .filter("run_id = 'd-1' AND model_name = 'fmnist-mlp-student-T4-a0.7'")
                .collectAsList();
        assertEquals(4, history.size(), "one row per epoch");

        // as `compactml publish --set publish.model=student` does it
        ArtifactStore.Published p = new PublishJob(
                        JobContext.of(ctx.spark(), ctx.config().with("publish.model", "student"), ctx.runId()))
                .run();
        Manifest m = new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop())
                .verify("fmnist-mlp-student", "d-1");
        assertEquals(teacher.sha256(), m.sourceModelSha256());
        assertEquals(r.chosen().metrics().get("accuracy"), m.metrics().get("accuracy"), 1e-12);
        assertEquals("distilled", p.manifest().technique());
    }

    @Test
    void candidatesTrainedAtOnceAreTheStudentsTrainedInTurn() {
        List<List<Double>> accuracies = new ArrayList<>();
        List<List<INDArray>> params = new ArrayList<>();
        for (int parallelism : new int[] {1, 2}) {
            JobContext c = JobContext.of(
                    ctx.spark(),
                    ctx.config()
                            .with("distill.parallelism", parallelism)
                            .with("distill.epochs", 2)
                            .with("distill.settings", List.of("2:0.5", "4:0.7"))
                            .with("distill.teacher-run", "d-1"),
                    "d-par-" + parallelism);
            DistillJob.Result r = new DistillJob(c).distill(teacher, DistillSettings.from(c.config()));
            assertEquals(
                    List.of("T2-a0.5", "T4-a0.7", DistillSettings.NO_KD),
                    r.students().stream().map(x -> x.setting().name()).toList(),
                    "the settings' order");
            accuracies.add(
                    r.students().stream().map(x -> x.metrics().get("accuracy")).toList());
            params.add(r.students().stream().map(x -> x.net().params()).toList());
        }
        assertEquals(accuracies.get(0), accuracies.get(1));
        for (int i = 0; i < 3; i++) {
            assertEquals(
                    0.0,
                    params.get(0).get(i).sub(params.get(1).get(i)).amaxNumber().doubleValue(),
                    1e-6);
        }
    }

    @Test
    void outputsOfAnotherTeacherOrDataVersionAreRefused() {
        LoadedModel other = LoadedModel.of("fmnist-mlp", "other", ModelIO.toBytes(otherTeacher()));
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> new DistillJob(ctx).distill(other, DistillSettings.from(ctx.config())));
        assertEquals(2, e.exitCode());
        assertTrue(
                e.getMessage().contains("come from teacher " + teacher.sha256().substring(0, 12)), e.getMessage());

        JobContext otherData = with("data.train.name", "other-data");
        CompactMLException data = assertThrows(
                CompactMLException.class,
                () -> new DistillJob(otherData).distill(teacher, DistillSettings.from(otherData.config())));
        assertEquals(2, data.exitCode());
        assertTrue(data.getMessage().contains("are of data set fashion-mnist-train"), data.getMessage());

        JobContext seven = with("network.outputs", 7);
        CompactMLException width = assertThrows(
                CompactMLException.class,
                () -> new TeacherOutputsJob(seven).label(teacher, DistillSettings.from(seven.config())));
        assertEquals(2, width.exitCode());
        assertTrue(width.getMessage().contains("has 10 outputs, but network.outputs"), width.getMessage());
    }

    @Test
    void badTemperaturesAndAlphasAreRefused() {
        for (String bad : List.of("0:0.5", "-1:0.5", "2:1.5", "2:-0.1", "two:0.5", "4")) {
            CompactConfig c = ctx.config().with("distill.settings", List.of(bad));
            CompactMLException e = assertThrows(CompactMLException.class, () -> DistillSettings.from(c), bad);
            assertEquals(2, e.exitCode());
            assertTrue(e.getMessage().contains("distill.settings"), e.getMessage());
        }
        assertFalse(DistillSettings.from(ctx.config().with("distill.no-kd-baseline", false))
                .settings()
                .isEmpty());
    }

    private org.deeplearning4j.nn.multilayer.MultiLayerNetwork otherTeacher() {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                io.compactml.common.model.NetworkSpec.from(ctx.config().with("train.seed", 9))
                        .build(784));
        net.init();
        return net;
    }

    private static double[] softmax(List<Float> z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double[] p = new double[z.size()];
        double sum = 0;
        for (int j = 0; j < p.length; j++) {
            p[j] = Math.exp(z.get(j) - max);
            sum += p[j];
        }
        for (int j = 0; j < p.length; j++) {
            p[j] /= sum;
        }
        return p;
    }

    /** Training image {@code row}, scaled as the jobs scale it. */
    private static org.nd4j.linalg.api.ndarray.INDArray image(int row) {
        String uri = io.compactml.common.config.ConfigKeys.FMNIST + "train-images-idx3-ubyte.gz";
        float[] raw;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(java.nio.file.Path.of(uri))) {
            raw = io.compactml.common.data.IdxFile.read(in, uri, row, 1)[0];
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        float[] x = new float[raw.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = raw[i] / 255f;
        }
        return org.nd4j.linalg.factory.Nd4j.create(x, new long[] {1, x.length}, 'c');
    }
}
