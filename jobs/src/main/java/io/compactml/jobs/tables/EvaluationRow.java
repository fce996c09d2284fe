package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code evaluations}: one metric of a model evaluated on a data set (long form). */
public record EvaluationRow(
        @Key String runId,
        @Key String modelName,
        String modelSha256,
        String technique,
        @Key String dataset,
        @Key String metric,
        Double value,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code evaluations}, read by column name. */
    public static EvaluationRow from(Row r) {
        return RowCodec.of(EvaluationRow.class).fromRow(r);
    }
}
