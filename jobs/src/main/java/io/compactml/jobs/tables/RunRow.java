package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code runs}: one job of one run: running, then succeeded or failed with the error. */
public record RunRow(
        @Key String runId,
        @Key String job,
        @Required String status,
        String configHash,
        String projectVersion,
        String sparkMaster,
        Timestamp startedAt,
        Timestamp endedAt,
        String error,
        Integer attempt,
        String driver,
        Timestamp heartbeatAt)
        implements TableRow {

    /** The row {@code r} of {@code runs}, read by column name. */
    public static RunRow from(Row r) {
        return RowCodec.of(RunRow.class).fromRow(r);
    }
}
