package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver killed (SIGKILL: nothing flushed, no failure recorded) in the middle of a plan, after its first
 * candidate: the rerun of the run id takes the run over, reuses the finished candidate and makes the rest.
 */
class InterruptedRunTest {
    @TempDir
    Path work;

    private static String[] with(String[] base, String... more) {
        List<String> all = new ArrayList<>(Arrays.asList(base));
        all.addAll(Arrays.asList(more));
        return all.toArray(String[]::new);
    }

    @Test
    void aPlanWhoseDriverIsKilledMidwayIsTakenOverAndKeepsItsFinishedCandidate() throws Exception {
        String[] settings = {
            "--run-id", "k",
            "--set", "data.train.limit=2000",
            "--set", "data.eval.limit=500",
            "--set", "train.epochs=1",
            "--set", "network.hidden=[32]",
            "--set", "evaluate.latency-runs=5",
            "--set", "spark.master=local[2]",
            "--set", "calibrate.methods=[\"percentile\"]",
            "--set", "quantize.sensitivity=false",
            "--set", "pipeline.candidates=[\"int8:percentile\", \"prune:magnitude:0.5\"]",
            "--set", "prune.fine-tune-epochs=15",
            "--set", "pipeline.publish=false"
        };
        CliProcess.Outcome trained = CliProcess.run(work, with(new String[] {"train"}, settings));
        assertEquals(0, trained.exitCode(), trained.toString());

        Process plan = CliProcess.start(work, Map.of(), with(new String[] {"pipeline"}, settings));
        Path firstCandidate = work.resolve("warehouse/candidates/_delta_log/00000000000000000000.json");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (!Files.exists(firstCandidate) && plan.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(Files.exists(firstCandidate), "the first candidate was recorded");
        assertTrue(plan.isAlive(), "the plan is still making its second candidate");
        plan.descendants().forEach(ProcessHandle::destroyForcibly);
        plan.destroyForcibly();
        assertTrue(plan.waitFor(1, TimeUnit.MINUTES));

        CliProcess.Outcome rerun = CliProcess.run(work, with(new String[] {"pipeline"}, settings));
        assertEquals(0, rerun.exitCode(), rerun.toString());
        assertTrue(rerun.stdout().contains("warning: run k, job pipeline is still marked running by "), rerun.stdout());
        assertTrue(rerun.stdout().contains("attempt 2 takes it over."), rerun.stdout());
        assertTrue(rerun.stdout().contains("pipeline: reusing candidate int8:percentile"), rerun.stdout());
        assertTrue(rerun.stdout().contains("pipeline: candidate prune:magnitude:0.5"), rerun.stdout());

        CliProcess.Outcome runs = CliProcess.run(
                work,
                "sql",
                "--format",
                "csv",
                "SELECT job, status, attempt FROM runs WHERE run_id = 'k' ORDER BY job");
        assertEquals(0, runs.exitCode(), runs.toString());
        assertTrue(runs.stdout().contains("pipeline,succeeded,2"), runs.stdout());
        assertTrue(runs.stdout().contains("train,succeeded,1"), runs.stdout());
    }
}
