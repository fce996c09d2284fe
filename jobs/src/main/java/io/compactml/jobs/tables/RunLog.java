package io.compactml.jobs.tables;

import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import java.lang.management.ManagementFactory;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code runs} table: one row per (run id, job), from running to succeeded or failed.
 *
 * <p>A driver that dies (killed, its machine lost) cannot mark its row failed, so a running job refreshes its row's
 * {@code heartbeat_at} every {@link #HEARTBEAT}: a row still {@code running} whose heartbeat is older than
 * {@link #STALE} belongs to a driver that is gone ({@link #isStale}). A rerun of the run id takes the row over: it
 * says what it found, and its row counts the {@code attempt}; {@code driver} names the process (pid@host) that
 * wrote it.
 */
public final class RunLog {
    public static final String PROJECT_VERSION = versionOf();

    /** How often a running job refreshes its heartbeat. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(60);

    /** A running row whose heartbeat is older than this (three heartbeats) belongs to a driver that is gone. */
    public static final Duration STALE = HEARTBEAT.multipliedBy(3);

    private static final Logger LOG = LoggerFactory.getLogger(RunLog.class);
    private static final String DRIVER = ManagementFactory.getRuntimeMXBean().getName();

    private final JobContext ctx;
    private final String job;
    private final Timestamp started = Timestamp.from(Instant.now());
    private int attempt = 1;
    private ScheduledExecutorService heartbeat;
    private boolean finished;

    public RunLog(JobContext ctx, String job) {
        this.ctx = ctx;
        this.job = job;
    }

    /** Whether {@code row} is running with a heartbeat older than {@link #STALE} at {@code now}. */
    public static boolean isStale(RunRow row, Instant now) {
        Timestamp beat = row.heartbeatAt() != null ? row.heartbeatAt() : row.startedAt();
        return "running".equals(row.status())
                && beat != null
                && beat.toInstant().plus(STALE).isBefore(now);
    }

    /** Marks the job running (attempt n + 1 of a run id already recorded) and starts the heartbeat. */
    public void started() {
        List<RunRow> before =
                ctx.tables().rows(Table.RUNS, Scope.run(ctx.runId()).and("job", job), RunRow.class);
        if (!before.isEmpty()) {
            RunRow previous = before.get(0);
            attempt = (previous.attempt() == null ? 1 : previous.attempt()) + 1;
            if ("running".equals(previous.status())) {
                Console.out(
                        "warning: run %s, job %s is still marked running by %s (last heartbeat %s%s); attempt %d takes"
                                + " it over.",
                        ctx.runId(),
                        job,
                        previous.driver() == null ? "an earlier driver" : previous.driver(),
                        (previous.heartbeatAt() == null ? previous.startedAt() : previous.heartbeatAt()).toInstant(),
                        isStale(previous, Instant.now()) ? ": that driver is gone" : ", which may still be running",
                        attempt);
            }
        }
        write("running", null, null);
        heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "compactml-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = HEARTBEAT.toMillis();
        heartbeat.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
    }

    public void succeeded() {
        finish("succeeded", null);
    }

    public void failed(String error) {
        finish("failed", error);
    }

    private synchronized void beat() {
        if (finished) {
            return;
        }
        try {
            write("running", null, null);
        } catch (RuntimeException e) {
            // a missed heartbeat only makes the row look older; the job goes on
            LOG.warn("runs: heartbeat of run {} job {} not written: {}", ctx.runId(), job, e.toString());
        }
    }

    /** Under the heartbeat's lock: a beat in flight commits first, and none follows the final status. */
    private synchronized void finish(String status, String error) {
        finished = true;
        if (heartbeat != null) {
            heartbeat.shutdown();
        }
        write(status, Timestamp.from(Instant.now()), error);
    }

    private void write(String status, Timestamp ended, String error) {
        ctx.tables()
                .upsert(
                        Table.RUNS,
                        List.of(new RunRow(
                                ctx.runId(),
                                job,
                                status,
                                ctx.config().hash(),
                                PROJECT_VERSION,
                                ctx.spark().sparkContext().master(),
                                started,
                                ended,
                                error,
                                attempt,
                                DRIVER,
                                Timestamp.from(Instant.now()))));
    }

    private static String versionOf() {
        String v = RunLog.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
