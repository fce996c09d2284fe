package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code artifacts}: one published artifact version. */
public record ArtifactRow(
        @Key String modelName,
        @Key String version,
        String runId,
        String technique,
        String uri,
        String modelSha256,
        String sourceModelSha256,
        Long sizeBytes,
        String manifestSha256,
        Timestamp publishedAt)
        implements TableRow {

    /** The row {@code r} of {@code artifacts}, read by column name. */
    public static ArtifactRow from(Row r) {
        return RowCodec.of(ArtifactRow.class).fromRow(r);
    }
}
