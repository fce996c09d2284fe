package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code training_history}: one training epoch of a model. */
public record TrainingHistoryRow(
        @Key String runId,
        @Key String modelName,
        @Key int epoch,
        Double trainLoss,
        Double valLoss,
        Double valAccuracy,
        Long examples,
        Double samplesPerSec,
        Double epochSeconds,
        Double elapsedSeconds,
        Integer workers,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code training_history}, read by column name. */
    public static TrainingHistoryRow from(Row r) {
        return RowCodec.of(TrainingHistoryRow.class).fromRow(r);
    }
}
