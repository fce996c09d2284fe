package io.compactml.jobs.tables;

import io.compactml.jobs.runtime.JobContext;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** The {@code runs} table: one row per (run id, job), updated from running to succeeded or failed. */
public final class RunLog {
    public static final String PROJECT_VERSION = versionOf();

    private final JobContext ctx;
    private final String job;
    private final Timestamp started = Timestamp.from(Instant.now());

    public RunLog(JobContext ctx, String job) {
        this.ctx = ctx;
        this.job = job;
    }

    public void started() {
        write("running", null, null);
    }

    public void succeeded() {
        write("succeeded", Timestamp.from(Instant.now()), null);
    }

    public void failed(String error) {
        write("failed", Timestamp.from(Instant.now()), error);
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
                                error)));
    }

    private static String versionOf() {
        String v = RunLog.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
