package io.compactml.jobs.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.quant.Int8Model;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Train a small MLP on a slice of Fashion-MNIST, calibrate it, quantize it, publish the int8 model. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuantizeJobTest {
    private JobContext ctx;
    private TrainJob.Result trained;

    @BeforeAll
    void trainAndCalibrate() {
        ctx = SharedSpark.context(
                "q-1",
                "data.train.limit=3000",
                "data.eval.limit=1000",
                "data.calibration.limit=2000",
                "train.epochs=3",
                "network.hidden=[64]",
                "train.batch-size=64",
                "train.averaging-frequency=4",
                "train.validate=false");
        trained = new TrainJob(ctx).run();
        new CalibrateJob(ctx).run();
    }

    @Test
    void int8KeepsTheAccuracyAndShrinksTheModel() {
        QuantizeJob.Result r = new QuantizeJob(ctx).run();
        double fp = r.variants().get("float").get("accuracy");
        double int8 = r.variants().get("int8").get("accuracy");
        double weights = r.variants().get("int8-weights").get("accuracy");
        assertTrue(Math.abs(fp - int8) <= 0.02, "float " + fp + " vs int8 " + int8);
        assertTrue(Math.abs(fp - weights) <= 0.01, "float " + fp + " vs int8 weights " + weights);
        assertTrue(
                r.variants().get("int8").get("sqnr_db") > 20,
                "sqnr " + r.variants().get("int8").get("sqnr_db"));
        assertTrue(
                r.floatZipBytes() / (double) r.file().length > 3.5,
                "size ratio " + r.floatZipBytes() / (double) r.file().length);
        // the file loads back into a DL4J network
        assertEquals(
                784 * 64 + 64 + 64 * 10 + 10,
                Int8Model.fromBytes(r.file(), "mem").toNetwork().numParams());
        List<Row> sensitivity =
                ctx.tables().read(Table.LAYER_SENSITIVITY).orderBy("layer").collectAsList();
        assertEquals(2, sensitivity.size(), "one trial per weight layer");

        ArtifactStore.Published p = new PublishJob(ctx)
                .publish(
                        r.name(),
                        ModelKind.INT8,
                        r.file(),
                        trained.modelSha256(),
                        PublishJob.calibration(
                                r.settings(), r.calibrationRun(), DatasetSpec.from(ctx.config(), "calibration")));
        Manifest m = new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop())
                .verify("fmnist-mlp-int8", "q-1");
        assertEquals("compactml-int8", m.format());
        assertEquals(trained.modelSha256(), m.sourceModelSha256());
        assertEquals(int8, m.metrics().get("accuracy"), 1e-12);
        assertTrue(
                m.data().get("calibration").startsWith("run q-1, method percentile"),
                m.data().toString());
        assertEquals("q-1", p.manifest().version());
    }

    @Test
    void aBudgetMovesLayersToFloatUntilItHolds() {
        JobContext strict = JobContext.of(
                ctx.spark(),
                ctx.config()
                        .with("quantize.max-accuracy-drop", 0.0)
                        .with("quantize.method", "minmax")
                        .with("quantize.sensitivity", false),
                "q-1");
        QuantizeJob.Result r = new QuantizeJob(strict).run();
        List<Row> steps =
                strict.tables().read(Table.QUANT_DECISIONS).orderBy("step").collectAsList();
        Row last = steps.get(steps.size() - 1);
        assertTrue(last.getBoolean(last.fieldIndex("within_budget")), steps.toString());
        assertEquals(steps.size() - 1, r.floatLayers().size(), "one layer moved to float per step");
    }

    @Test
    void quantizeWithoutCalibrationNamesWhatToRun() {
        JobContext other = JobContext.of(ctx.spark(), ctx.config().with("quantize.calibration-run", "nope"), "q-1");
        CompactMLException e = assertThrows(CompactMLException.class, () -> new QuantizeJob(other).run());
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("compactml calibrate --run-id nope"), e.getMessage());
    }
}
