package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/**
 * A row of {@code quant_params}: the int8 parameters of one tensor (or one output channel of a weight tensor) for
 * one calibration method. {@code coverage} is the share (0..1) of the calibration values int8 does not saturate (those
 * within half a step of [{@code clipMin}, {@code clipMax}]; 1 for weights, whose range is their min and max).
 */
public record QuantParamRow(
        @Key String runId,
        @Key String modelSha256,
        @Key int tensorIndex,
        @Required String tensor,
        @Key String kind,
        @Key String method,
        @Required String granularity,
        @Key int channel,
        Float scale,
        Integer zeroPoint,
        Integer qmin,
        Integer qmax,
        Float clipMin,
        Float clipMax,
        Double coverage,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code quant_params}, read by column name. */
    public static QuantParamRow from(Row r) {
        return RowCodec.of(QuantParamRow.class).fromRow(r);
    }
}
