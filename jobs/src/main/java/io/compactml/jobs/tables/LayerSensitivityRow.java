package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/**
 * A row of {@code layer_sensitivity}: the accuracy with only one layer quantized (its weights at {@code weightBits},
 * the other layers float), against the float model; or, for {@code quantize.mixed-bits}, with only this layer's
 * weights at a lower width and every other layer quantized as configured.
 */
public record LayerSensitivityRow(
        @Key String runId,
        @Key String modelSha256,
        @Required String method,
        @Key int layer,
        Integer weightBits,
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
