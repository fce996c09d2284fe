package io.compactml.jobs.tables;

import org.apache.spark.sql.Row;

/**
 * A row of {@code teacher_outputs}: the teacher's outputs (logits, or regression outputs) for one example of the
 * transfer set, or for one of its augmented copies: {@code copy} 0 is the example as it is, 1 to
 * {@code teacher-outputs.augment.count} the copies {@code augmentation} describes
 * ({@link io.compactml.common.data.Augmentation#describe}; null without copies). Tables written before copies existed
 * read copy as null, the example itself.
 */
public record TeacherOutputRow(
        @Key String runId,
        @Required String teacherSha256,
        @Required String dataset,
        @Required String datasetVersion,
        @Key long rowId,
        Double label,
        @Required float[] outputs,
        @Key int copy,
        String augmentation)
        implements TableRow {

    /** The row {@code r} of {@code teacher_outputs}, read by column name. */
    public static TeacherOutputRow from(Row r) {
        return RowCodec.of(TeacherOutputRow.class).fromRow(r);
    }
}
