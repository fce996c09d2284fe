package io.compactml.jobs.cases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.prune.PruneSettings;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Results that were silently wrong on small inputs (cases C01, C06 and C12 of the cases this project got wrong),
 * run through the jobs as the CLI runs them.
 */
class SilentlyWrongCasesTest {
    private static final String MAX_PARTITION_BYTES = "spark.sql.files.maxPartitionBytes";

    /** {@code body} with CSV files split every {@code bytes} bytes, as another cluster or setting would split them. */
    private static <T> T splitEvery(String bytes, java.util.function.Supplier<T> body) {
        org.apache.spark.sql.RuntimeConfig conf = SharedSpark.session().conf();
        String before = conf.get(MAX_PARTITION_BYTES);
        conf.set(MAX_PARTITION_BYTES, bytes);
        try {
            return body.get();
        } finally {
            conf.set(MAX_PARTITION_BYTES, before);
        }
    }

    @Test
    void aRowIdIsTheExamplesPositionInItsFilesWhateverTheSplits() throws Exception {
        // C12: 300 rows read in 4 splits, then in 3: monotonically_increasing_id() named other rows
        String csv = SharedSpark.csv("rowid_join.csv");
        List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of(csv));
        io.compactml.common.data.DatasetSpec spec = io.compactml.common.data.DatasetSpec.from(
                SharedSpark.config(
                        SharedSpark.onCsv("rowid_join.csv", "f*", "label").toArray(String[]::new)),
                "train");
        java.util.Map<String, java.util.Map<Long, List<Float>>> byLayout = new java.util.TreeMap<>();
        for (String bytes : List.of("3000", "4000", "134217728")) {
            byLayout.put(bytes, splitEvery(bytes, () -> {
                org.apache.spark.sql.Dataset<Row> rows = io.compactml.jobs.data.SparkData.load(
                                SharedSpark.session(), spec)
                        .rows();
                java.util.Map<Long, List<Float>> m = new java.util.TreeMap<>();
                for (Row r : rows.collectAsList()) {
                    m.put(r.getLong(0), r.getList(1));
                }
                return m;
            }));
        }
        java.util.Map<Long, List<Float>> one = byLayout.get("134217728");
        assertEquals(300, one.size());
        assertEquals(byLayout.get("3000"), one);
        assertEquals(byLayout.get("4000"), one);
        // row 0 is the file's first data line, row 299 its last (columns label, f0..f3)
        for (long row : new long[] {0, 123, 299}) {
            String[] cells = lines.get((int) row + 1).split(",");
            for (int f = 0; f < 4; f++) {
                assertEquals(Float.parseFloat(cells[f + 1]), one.get(row).get(f), 0f, "row " + row + " f" + f);
            }
        }
    }

    @Test
    void distillationJoinsEveryTeacherOutputToItsOwnExampleOrFails() {
        JobContext ctx = SharedSpark.context(
                "c12",
                SharedSpark.onCsv(
                                "rowid_join.csv",
                                "f*",
                                "label",
                                "train.epochs=20",
                                "distill.settings=[\"1:1.0\"]",
                                "distill.epochs=10",
                                "distill.student.hidden=[4]")
                        .toArray(String[]::new));
        TrainJob.Result trained = new TrainJob(ctx).run();
        io.compactml.common.distill.DistillSettings settings =
                io.compactml.common.distill.DistillSettings.from(ctx.config());
        io.compactml.jobs.runtime.LoadedModel teacher = trained.model("cml-rowid");
        splitEvery("3000", () -> new io.compactml.jobs.distill.TeacherOutputsJob(ctx).label(teacher, settings));
        io.compactml.jobs.distill.DistillJob.Result r =
                splitEvery("4000", () -> new io.compactml.jobs.distill.DistillJob(ctx).distill(teacher, settings));
        assertTrue(r.students().size() >= 1);
        // the stored outputs now name other examples (as an edited data set would): a clear failure, not a student
        String table = ctx.tables().path(Table.TEACHER_OUTPUTS);
        SharedSpark.session().sql("UPDATE delta.`" + table + "` SET row_id = 299 - row_id WHERE run_id = 'c12'");
        io.compactml.common.CompactMLException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.compactml.common.CompactMLException.class,
                () -> new io.compactml.jobs.distill.DistillJob(ctx).distill(teacher, settings));
        assertEquals(2, e.exitCode());
        assertTrue(
                e.getMessage().contains("do not line up with data.train: 300 of the 300 stored outputs"),
                e.getMessage());
    }

    @Test
    void entropyCalibrationOfFeaturesFarFromZeroKeepsTheFloatAccuracy() {
        // C01: four features uniform in [0.5, 1], label f0 > 0.75; entropy clipped the input to [0.5008, 0.5008]
        // and the int8 model scored 0.5175 where float scores about 0.93
        JobContext ctx = SharedSpark.context(
                "c01",
                SharedSpark.onCsv(
                                "entropy_offset.csv",
                                "f*",
                                "label",
                                "network.hidden=[16]",
                                "train.epochs=40",
                                "calibrate.batch-size=64",
                                "quantize.method=entropy",
                                "quantize.sensitivity=false")
                        .toArray(String[]::new));
        TrainJob.Result trained = new TrainJob(ctx).run();
        CalibrateJob.Result cal = new CalibrateJob(ctx)
                .calibrate(
                        trained.model("cml-entropy-offset"),
                        io.compactml.common.quant.CalibrationSettings.from(ctx.config()));
        QuantParamRow input = cal.quantParams().stream()
                .filter(p -> p.tensorIndex() == 0 && p.method().equals("entropy"))
                .findFirst()
                .orElseThrow();
        assertTrue(input.clipMax() >= 0.99f, "entropy clip of the input: " + input.clipMax());
        assertEquals(1.0, input.coverage(), 1e-9, "every input value inside the int8 range");
        for (QuantParamRow p : cal.quantParams()) {
            assertTrue(p.coverage() >= 0.99, p.tensor() + " " + p.method() + " coverage " + p.coverage());
        }
        QuantizeJob.Result q = new QuantizeJob(ctx).run();
        double floatAcc = q.variants().get("float").get("accuracy");
        double int8Acc = q.int8Metrics().get("accuracy");
        assertTrue(floatAcc > 0.9, "float " + floatAcc);
        assertTrue(int8Acc >= floatAcc - 0.01, "int8 " + int8Acc + " vs float " + floatAcc);
    }

    @Test
    void layerScopePruningNeverEmptiesATensor() {
        // C06: MLP [4] with 2 outputs at 95 % per layer: round(0.95 * 8) = 8 took all of the output layer's weights
        JobContext ctx = SharedSpark.context(
                "c06",
                SharedSpark.onCsv(
                                "train_basic.csv",
                                "f*",
                                "label",
                                "network.hidden=[4]",
                                "train.epochs=20",
                                "prune.scope=layer",
                                "prune.sparsity=0.95",
                                "prune.fine-tune-epochs=0")
                        .toArray(String[]::new));
        TrainJob.Result trained = new TrainJob(ctx).run();
        new PruneJob(ctx).prune(trained.model("cml-prune-collapse"), PruneSettings.from(ctx.config()));
        List<Row> layers = ctx.tables()
                .read(Table.SPARSITY)
                .filter("run_id = 'c06' AND layer >= 0")
                .orderBy("layer")
                .collectAsList();
        assertEquals(2, layers.size());
        // 16 weights: 15 pruned (round(15.2)); 8 weights: 7 pruned, not 8
        assertEquals(15.0 / 16, layers.get(0).getDouble(layers.get(0).fieldIndex("actual_sparsity")), 1e-9);
        assertEquals(7.0 / 8, layers.get(1).getDouble(layers.get(1).fieldIndex("actual_sparsity")), 1e-9);
    }
}
