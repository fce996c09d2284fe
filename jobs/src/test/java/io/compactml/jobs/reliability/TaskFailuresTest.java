package io.compactml.jobs.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.distill.DistillSettings;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.common.prune.PruneSettings;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.distill.TeacherOutputsJob;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * A task that fails on its first attempt (an I/O error injected where it reads its data) is retried by Spark, and
 * every pass over the data gives bit-identical results to the same pass without the fault; training and
 * fine-tuning finish.
 */
class TaskFailuresTest {
    private static final String DATA = "faulty:///usr/share/datasets/fashion-mnist/";

    private static <T> T withFaults(Supplier<T> body) {
        int before = FaultyFileSystem.INJECTED.get();
        FaultyFileSystem.ARMED = true;
        try {
            return body.get();
        } finally {
            FaultyFileSystem.ARMED = false;
            assertTrue(FaultyFileSystem.INJECTED.get() > before, "a fault was injected");
        }
    }

    /** Every row of {@code run} in {@code t}, without the run id and the write time, sorted. */
    private static List<String> rows(JobContext ctx, Table t, String run, String... alsoDrop) {
        List<String> drop = new ArrayList<>(List.of("run_id", "created_at"));
        drop.addAll(Arrays.asList(alsoDrop));
        Column[] keep = Arrays.stream(ctx.tables().read(t).columns())
                .filter(c -> !drop.contains(c))
                .map(functions::col)
                .toArray(Column[]::new);
        List<String> out = new ArrayList<>();
        for (Row r : ctx.tables()
                .read(t)
                .filter(functions.col("run_id").equalTo(run))
                .select(keep)
                .collectAsList()) {
            out.add(r.toString());
        }
        out.sort(null);
        assertTrue(!out.isEmpty(), t.tableName() + " has rows of " + run);
        return out;
    }

    @Test
    void passesOverTheDataGiveBitIdenticalResultsThroughARetriedTaskAndTrainingFinishes() {
        SharedSpark.session()
                .sparkContext()
                .hadoopConfiguration()
                .set("fs.faulty.impl", FaultyFileSystem.class.getName());
        List<String> sets = new ArrayList<>();
        for (String split : List.of("train", "eval", "calibration")) {
            String images = split.equals("eval") ? "t10k-images-idx3-ubyte.gz" : "train-images-idx3-ubyte.gz";
            String labels = split.equals("eval") ? "t10k-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte.gz";
            sets.addAll(List.of(
                    "data." + split + ".uri=\"" + DATA + images + "\"",
                    "data." + split + ".labels-uri=\"" + DATA + labels + "\"",
                    "data." + split + ".limit=1200"));
        }
        sets.addAll(List.of(
                "network.hidden=[32]",
                "train.epochs=2",
                "train.batch-size=64",
                "train.validate=false",
                "importance.batch-size=100",
                "evaluate.latency-runs=0",
                "prune.sparsity=0.5",
                "prune.fine-tune-epochs=1"));
        JobContext clean = SharedSpark.context("tf-clean", sets.toArray(String[]::new));
        JobContext faulty = clean.withRunId("tf-faulty");
        LoadedModel model = new TrainJob(clean).run().model("fmnist-mlp");

        TrainJob.Result retrained = withFaults(() -> new TrainJob(faulty).run());
        assertEquals(2, retrained.history().size(), "both epochs trained");
        PruneJob.Result pruned =
                withFaults(() -> new PruneJob(faulty).prune(model, PruneSettings.from(faulty.config())));
        double total = pruned.sparsity().stream()
                .filter(r -> r.layer() == -1)
                .findFirst()
                .orElseThrow()
                .actualSparsity();
        assertEquals(0.5, total, 0.001, "fine-tuned under the masks");

        for (JobContext ctx : List.of(clean, faulty)) {
            Supplier<Object> passes = () -> {
                new CalibrateJob(ctx).calibrate(model, CalibrationSettings.from(ctx.config()));
                new ImportanceJob(ctx).compute(model, ImportanceSettings.from(ctx.config()));
                new TeacherOutputsJob(ctx).label(model, DistillSettings.from(ctx.config()));
                return new EvaluateJob(ctx).evaluate(model, "float");
            };
            if (ctx == faulty) {
                withFaults(passes);
            } else {
                passes.get();
            }
        }
        for (Table t :
                List.of(Table.CALIBRATION_STATS, Table.QUANT_PARAMS, Table.PARAM_IMPORTANCE, Table.TEACHER_OUTPUTS)) {
            assertEquals(rows(clean, t, "tf-clean"), rows(clean, t, "tf-faulty"), t.tableName());
        }
        // the source's quality metrics are the same (latency is a measurement of its own; the faulty run also
        // evaluated its pruned model)
        java.util.function.Predicate<String> quality = r -> r.startsWith("[fmnist-mlp,") && !r.contains("latency");
        List<String> clean1 = rows(clean, Table.EVALUATIONS, "tf-clean").stream()
                .filter(quality)
                .toList();
        List<String> faulty1 = rows(clean, Table.EVALUATIONS, "tf-faulty").stream()
                .filter(quality)
                .toList();
        assertTrue(clean1.stream().anyMatch(r -> r.contains("accuracy")), clean1.toString());
        assertEquals(clean1, faulty1);
    }
}
