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
 * Results that were silently wrong on small inputs (cases C01 and C06 of the cases this project got wrong), run
 * through the jobs as the CLI runs them.
 */
class SilentlyWrongCasesTest {

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
