package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/** A row of {@code distill_candidates}: one candidate student of a distillation. */
public record DistillCandidateRow(
        @Key String runId,
        @Key String student,
        @Key String candidate,
        Double temperature,
        Double alpha,
        String teacherSha256,
        String teacherRun,
        Long params,
        Long teacherParams,
        Integer epochs,
        Double accuracy,
        Double loss,
        Double teacherAccuracy,
        Double meanEpochSeconds,
        Double samplesPerSec,
        Boolean chosen,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code distill_candidates}, read by column name. */
    public static DistillCandidateRow from(Row r) {
        return RowCodec.of(DistillCandidateRow.class).fromRow(r);
    }
}
