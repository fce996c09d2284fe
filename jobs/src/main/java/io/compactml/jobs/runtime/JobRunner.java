package io.compactml.jobs.runtime;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.jobs.tables.RunLog;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a job runs: validate the config (before Spark starts, so config errors are quick), build the
 * session, mark the run running, run, mark it succeeded or failed, stop the session. Failures propagate.
 */
public final class JobRunner {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

    private JobRunner() {}

    /** Runs {@code body} as job {@code job} of run {@code runId} with a validated {@code config}. */
    public static void run(String job, CompactConfig config, String runId, Consumer<JobContext> body) {
        LOG.info("{} run {} with config:\n{}", job, runId, config.render());
        SparkSession spark = SparkSessions.create(config, job);
        try {
            JobContext ctx = JobContext.of(spark, config, runId);
            RunLog runLog = new RunLog(ctx, job);
            runLog.started();
            try {
                body.accept(ctx);
            } catch (RuntimeException e) {
                recordFailure(runLog, e);
                throw e;
            }
            runLog.succeeded();
            Console.out("%s run %s succeeded", job, runId);
        } finally {
            spark.stop();
        }
    }

    private static void recordFailure(RunLog runLog, RuntimeException e) {
        CompactMLException known = CompactMLException.find(e);
        try {
            runLog.failed(known != null ? known.getMessage() : String.valueOf(e));
        } catch (RuntimeException secondary) {
            // the original failure matters more; keep it, note this one
            e.addSuppressed(secondary);
        }
    }
}
