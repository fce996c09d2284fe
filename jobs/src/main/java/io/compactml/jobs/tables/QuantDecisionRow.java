package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/**
 * A row of {@code quant_decisions}: one step of the accuracy-budget loop ({@code AccuracyBudget}) or of the
 * per-layer bit widths ({@code MixedPrecision}); {@code weightBits} by layer: 8, 4, 2 or 1, 32 for float weights,
 * 0 for a layer without weights.
 */
public record QuantDecisionRow(
        @Key String runId,
        @Key String modelSha256,
        @Key int step,
        int[] floatLayers,
        int[] weightBits,
        Double accuracy,
        Double accuracyDrop,
        Boolean withinBudget,
        String decision,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code quant_decisions}, read by column name. */
    public static QuantDecisionRow from(Row r) {
        return RowCodec.of(QuantDecisionRow.class).fromRow(r);
    }
}
