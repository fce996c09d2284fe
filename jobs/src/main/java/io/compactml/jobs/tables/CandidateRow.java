package io.compactml.jobs.tables;

import java.sql.Timestamp;
import java.util.List;
import org.apache.spark.sql.Row;

/** A row of {@code candidates}: one candidate of a compression plan: how it was made, what was measured, the verdict. */
public record CandidateRow(
        @Key String runId,
        @Key String candidate,
        String configHash,
        List<String> steps,
        String candidateRunId,
        String modelName,
        String modelUri,
        String format,
        Double accuracy,
        Double sourceAccuracy,
        Double accuracyDropPoints,
        Long sizeBytes,
        Long sourceSizeBytes,
        Double latencySingleP50Ms,
        Boolean meetsConstraints,
        Boolean paretoOptimal,
        Boolean chosen,
        String decision,
        Double seconds,
        Boolean reused,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code candidates}, read by column name. */
    public static CandidateRow from(Row r) {
        return RowCodec.of(CandidateRow.class).fromRow(r);
    }
}
