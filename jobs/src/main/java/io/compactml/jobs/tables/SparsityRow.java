package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code sparsity}: the sparsity of one weight layer of a pruned model (layer -1: all of them). */
public record SparsityRow(
        @Key String runId,
        @Key String modelName,
        @Required String sourceModelSha256,
        String criterion,
        String structure,
        String scope,
        @Key int layer,
        String layerName,
        Long weights,
        Double targetSparsity,
        Double actualSparsity,
        Integer unitsBefore,
        Integer unitsAfter,
        Boolean excluded,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code sparsity}, read by column name. */
    public static SparsityRow from(Row r) {
        return RowCodec.of(SparsityRow.class).fromRow(r);
    }
}
