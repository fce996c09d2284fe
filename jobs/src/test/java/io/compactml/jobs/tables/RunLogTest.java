package io.compactml.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.runtime.JobContext;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code runs} row of a job whose driver died, and the rerun that takes it over. */
class RunLogTest {
    private static RunRow row(String status, Instant heartbeat) {
        Timestamp t = Timestamp.from(heartbeat);
        return new RunRow("r", "train", status, null, null, null, t, null, null, 1, "4242@gone", t);
    }

    @Test
    void aRunningRowIsStaleAfterThreeMissedHeartbeats() {
        Instant now = Instant.parse("2026-12-01T12:00:00Z");
        assertFalse(RunLog.isStale(row("running", now.minus(Duration.ofSeconds(170))), now));
        assertTrue(RunLog.isStale(row("running", now.minus(Duration.ofSeconds(181))), now));
        assertFalse(RunLog.isStale(row("failed", now.minus(Duration.ofDays(1))), now), "only running rows");
    }

    @Test
    void aRerunTakesOverTheRowAKilledDriverLeftRunning() {
        JobContext ctx = SharedSpark.context("killed");
        // what a driver killed mid-job leaves: its row running, the heartbeat ten minutes old
        Timestamp tenMinutesAgo = Timestamp.from(Instant.now().minus(Duration.ofMinutes(10)));
        ctx.tables()
                .upsert(
                        Table.RUNS,
                        List.of(new RunRow(
                                "killed",
                                "train",
                                "running",
                                null,
                                null,
                                null,
                                tenMinutesAgo,
                                null,
                                null,
                                1,
                                "4242@gone",
                                tenMinutesAgo)));
        RunRow left = only(ctx);
        assertTrue(RunLog.isStale(left, Instant.now()), "the dead driver's row reads as stale");

        PrintStream out = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true));
        RunLog rerun = new RunLog(ctx, "train");
        try {
            rerun.started();
        } finally {
            System.setOut(out);
        }
        String said = printed.toString();
        assertTrue(
                said.contains("warning: run killed, job train is still marked running by 4242@gone (last heartbeat "
                        + left.heartbeatAt().toInstant() + ": that driver is gone); attempt 2 takes it over."),
                said);
        RunRow running = only(ctx);
        assertEquals("running", running.status());
        assertEquals(2, running.attempt());
        assertNotEquals("4242@gone", running.driver());
        assertFalse(RunLog.isStale(running, Instant.now()), "the rerun's heartbeat is fresh");

        rerun.succeeded();
        RunRow done = only(ctx);
        assertEquals("succeeded", done.status());
        assertEquals(2, done.attempt());
        assertTrue(done.endedAt() != null);
    }

    private static RunRow only(JobContext ctx) {
        List<RunRow> rows = ctx.tables().rows(Table.RUNS, Scope.run("killed"), RunRow.class);
        assertEquals(1, rows.size(), rows.toString());
        return rows.get(0);
    }
}
