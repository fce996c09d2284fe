package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/**
 * A row of {@code param_importance}: the importance scores of one layer under one criterion: summary statistics
 * and every score (c-order over {@code shape}): per weight of the layer's weight tensor ({@code tensor = "W"},
 * {@code shape} its shape) or, for a criterion that scores channels (entropy, in bits), per output channel
 * ({@code tensor = "channels"}, {@code shape = [channels]}).
 */
public record ParamImportanceRow(
        @Key String runId,
        @Key String modelSha256,
        @Key String criterion,
        @Key int layer,
        String layerName,
        String layerType,
        @Required String tensor,
        int[] shape,
        Long count,
        Long batches,
        Long examples,
        Double mean,
        Double std,
        Float min,
        Float p50,
        Float p90,
        Float p99,
        Float max,
        Double stabilitySparsity,
        Double halfOverlap,
        Double globalHalfOverlap,
        float[] scores,
        Timestamp createdAt)
        implements TableRow {

    /** {@code tensor} of a row whose scores are per output channel. */
    public static final String CHANNELS = "channels";

    /** The row {@code r} of {@code param_importance}, read by column name. */
    public static ParamImportanceRow from(Row r) {
        return RowCodec.of(ParamImportanceRow.class).fromRow(r);
    }
}
