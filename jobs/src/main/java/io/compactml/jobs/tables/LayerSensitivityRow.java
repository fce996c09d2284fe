package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code layer_sensitivity}: the accuracy with only one layer quantized, against the float model. */
public record LayerSensitivityRow(
        @Key String runId,
        @Key String modelSha256,
        @Required String method,
        @Key int layer,
        String layerName,
        Double accuracy,
        Double accuracyDrop,
        Double sqnrDb,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code layer_sensitivity}, read by column name. */
    public static LayerSensitivityRow from(Row r) {
        return RowCodec.of(LayerSensitivityRow.class).fromRow(r);
    }
}
