package io.compactml.jobs.tables;

import org.apache.spark.sql.Row;

/** A row of {@code teacher_outputs}: the teacher's outputs (logits, or regression outputs) for one example of the transfer set. */
public record TeacherOutputRow(
        @Key String runId,
        @Required String teacherSha256,
        @Required String dataset,
        @Required String datasetVersion,
        @Key long rowId,
        Double label,
        @Required float[] outputs)
        implements TableRow {

    /** The row {@code r} of {@code teacher_outputs}, read by column name. */
    public static TeacherOutputRow from(Row r) {
        return RowCodec.of(TeacherOutputRow.class).fromRow(r);
    }
}
