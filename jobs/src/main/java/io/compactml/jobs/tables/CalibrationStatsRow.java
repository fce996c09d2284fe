package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code calibration_stats}: the exact statistics of one activation tensor over a calibration set, with its histogram of {@code 2048} uniform bins over [histogram_min, histogram_max]. */
public record CalibrationStatsRow(
        @Key String runId,
        @Key String modelSha256,
        String dataset,
        @Key int tensorIndex,
        @Required String tensor,
        Long count,
        Long nanCount,
        Long infCount,
        Float min,
        Float max,
        Float histogramMin,
        Float histogramMax,
        long[] histogram,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code calibration_stats}, read by column name. */
    public static CalibrationStatsRow from(Row r) {
        return RowCodec.of(CalibrationStatsRow.class).fromRow(r);
    }
}
