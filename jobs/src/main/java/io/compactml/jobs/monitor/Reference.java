package io.compactml.jobs.monitor;

import io.compactml.common.Errors;
import io.compactml.common.monitor.MonitorSettings;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.CalibrationStatsRow;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.Table;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What a window is compared with: the {@code calibration_stats} rows of one calibration run of the artifact's
 * source model (one per activation tensor, with its stored histogram), the clip ranges that run's {@code
 * quant_params} give for one method, and the model's predicted-class counts on {@code data.calibration}.
 *
 * @param run         the calibration run
 * @param method      the calibration method of the clip ranges
 * @param stats       per tensor, in tensor order
 * @param clips       tensor index to {clip_min, clip_max}
 * @param predictions rows predicted as each class on the reference data (empty until measured)
 */
public record Reference(
        String run, String method, List<CalibrationStatsRow> stats, Map<Integer, float[]> clips, long[] predictions) {

    /**
     * The reference of {@code served}: {@code monitor.reference-run}, or the newest calibration of the model the
     * artifact was made from.
     *
     * @throws io.compactml.common.CompactMLException (usage) when that model was never calibrated
     */
    public static Reference read(JobContext ctx, MonitorJob.Served served, MonitorSettings s) {
        String sha = served.manifest().sourceModelSha256();
        Dataset<Row> all = ctx.tables().exists(Table.CALIBRATION_STATS)
                ? ctx.tables()
                        .read(Table.CALIBRATION_STATS)
                        .filter(functions.col("model_sha256").equalTo(sha))
                : null;
        if (!s.referenceRun().isEmpty() && all != null) {
            all = all.filter(functions.col("run_id").equalTo(s.referenceRun()));
        }
        List<CalibrationStatsRow> rows = all == null
                ? List.of()
                : all.collectAsList().stream().map(CalibrationStatsRow::from).toList();
        if (rows.isEmpty()) {
            throw Errors.missingUpstream(
                    "calibration statistics of model " + sha.substring(0, 12) + " (the source of " + served.model()
                            + " " + served.version() + ")",
                    s.referenceRun().isEmpty() ? "(any)" : s.referenceRun(),
                    "calibration_stats",
                    "calibrate",
                    "monitor.reference-run");
        }
        String run = rows.stream()
                .max(Comparator.comparing(CalibrationStatsRow::createdAt))
                .orElseThrow()
                .runId();
        List<CalibrationStatsRow> stats = rows.stream()
                .filter(r -> r.runId().equals(run))
                .sorted(Comparator.comparingInt(CalibrationStatsRow::tensorIndex))
                .toList();
        String method = method(ctx, served, s);
        return new Reference(run, method, stats, clips(ctx, run, sha, method), new long[0]);
    }

    private static String method(JobContext ctx, MonitorJob.Served served, MonitorSettings s) {
        if (!s.method().isEmpty()) {
            return s.method();
        }
        Object fromArtifact = served.manifest().config().get("quantize.method");
        return fromArtifact != null ? fromArtifact.toString() : ctx.config().getString("quantize.method");
    }

    private static Map<Integer, float[]> clips(JobContext ctx, String run, String sha, String method) {
        Map<Integer, float[]> clips = new HashMap<>();
        if (!ctx.tables().exists(Table.QUANT_PARAMS)) {
            return clips;
        }
        ctx
                .tables()
                .read(Table.QUANT_PARAMS)
                .filter(functions
                        .col("run_id")
                        .equalTo(run)
                        .and(functions.col("model_sha256").equalTo(sha))
                        .and(functions.col("kind").equalTo("activation"))
                        .and(functions.col("method").equalTo(method)))
                .collectAsList()
                .stream()
                .map(QuantParamRow::from)
                .forEach(q -> clips.put(q.tensorIndex(), new float[] {q.clipMin(), q.clipMax()}));
        return clips;
    }

    /** This reference with the predicted-class counts measured on the reference data. */
    public Reference withPredictions(long[] counts) {
        return new Reference(run, method, stats, clips, counts);
    }
}
