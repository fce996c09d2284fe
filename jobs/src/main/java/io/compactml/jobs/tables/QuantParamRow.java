package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code quant_params}: the int8 parameters of one tensor (or one output channel of a weight tensor) for one calibration method. */
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
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code quant_params}, read by column name. */
    public static QuantParamRow from(Row r) {
        return RowCodec.of(QuantParamRow.class).fromRow(r);
    }
}
