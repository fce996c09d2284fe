package io.compactml.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.compactml.common.prune.ImportanceSettings;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.train.TrainJob;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Jobs of different runs writing the same Delta tables at once, as the compression DAG's parallel branches do:
 * before conflicts were retried, two of three such jobs failed with {@code ConcurrentAppendException} and left no
 * row in {@code runs}. Real jobs, real Delta commits, one Spark session (Spark runs jobs of several threads at once,
 * and Delta's optimistic concurrency is the same whether the writers share a JVM or not).
 */
class ConcurrentWritersTest {

    @Test
    void fourJobsOfDifferentRunsWritingTheSameTablesAllSucceedWithEveryRow() throws Exception {
        JobContext base = SharedSpark.context(
                "cw-train",
                SharedSpark.onCsv(
                                "train_basic.csv", "f*", "label", "importance.batch-size=32", "evaluate.latency-runs=0")
                        .toArray(String[]::new));
        LoadedModel model = new TrainJob(base).run().model("fmnist-mlp");
        List<String> runs = List.of("cw-eval-1", "cw-eval-2", "cw-calibrate", "cw-importance");
        List<Consumer<JobContext>> jobs = List.of(
                ctx -> new EvaluateJob(ctx).evaluate(model, "float"),
                ctx -> new EvaluateJob(ctx).evaluate(model, "float"),
                ctx -> new CalibrateJob(ctx).calibrate(model, CalibrationSettings.from(ctx.config())),
                ctx -> new ImportanceJob(ctx).compute(model, ImportanceSettings.from(ctx.config())));
        ExecutorService pool = Executors.newFixedThreadPool(runs.size());
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            JobContext ctx = base.withRunId(runs.get(i));
            Consumer<JobContext> job = jobs.get(i);
            done.add(pool.submit(() -> {
                start.await();
                RunLog log = new RunLog(ctx, "job-" + ctx.runId());
                log.started();
                job.accept(ctx);
                log.succeeded();
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(); // rethrows a job's failure
        }
        pool.shutdown();
        Set<String> succeeded = new TreeSet<>();
        for (Row r :
                base.tables().read(Table.RUNS).filter("status = 'succeeded'").collectAsList()) {
            succeeded.add(r.getString(r.fieldIndex("run_id")));
        }
        assertEquals(new TreeSet<>(runs), succeeded, "every job's row in runs");
        for (String run : List.of("cw-eval-1", "cw-eval-2")) {
            assertEquals(
                    1,
                    base.tables()
                            .read(Table.EVALUATIONS)
                            .filter("run_id = '" + run + "' AND metric = 'accuracy'")
                            .count(),
                    run);
        }
        // 3 activation tensors (input, hidden, output) x 4 methods, plus per-channel weights of 2 layers (8 + 2)
        assertEquals(
                3 * 4 + 8 + 2,
                base.tables()
                        .read(Table.QUANT_PARAMS)
                        .filter("run_id = 'cw-calibrate'")
                        .count());
        assertEquals(
                2,
                base.tables()
                        .read(Table.PARAM_IMPORTANCE)
                        .filter("run_id = 'cw-importance'")
                        .select("layer")
                        .distinct()
                        .count());
    }

    @Test
    void aConflictIsFoundBehindWrappingExceptions() {
        ConcurrentModificationException c = new ConcurrentModificationException("concurrent append");
        assertSame(c, Tables.conflict(new RuntimeException("job", new IllegalStateException("write", c))));
        assertNull(Tables.conflict(new IllegalStateException("not a conflict")));
    }
}
