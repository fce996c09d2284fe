package io.compactml.jobs.tables;

import java.sql.Timestamp;
import org.apache.spark.sql.Row;

/**
 * A row of {@code drift}: one metric of one tensor (or of the predictions) of a served model over one window,
 * against the calibration statistics: {@code psi}, {@code js_distance}, {@code saturation_rate} per activation
 * tensor; {@code prediction_psi} and (with labels) {@code accuracy} under the tensor name {@code predictions}.
 * {@code reference} is the calibration set's value (its saturation rate, the manifest's accuracy; 0 for the
 * distances); {@code drifted} is {@code value > threshold} ({@code value < threshold} for accuracy).
 */
public record DriftRow(
        @Key String runId,
        @Required String modelName,
        @Required String version,
        @Required String window,
        Long rows,
        @Key int tensorIndex,
        @Required String tensor,
        @Key String metric,
        Double value,
        Double reference,
        Double threshold,
        Boolean drifted,
        Timestamp createdAt)
        implements TableRow {

    /** The row {@code r} of {@code drift}, read by column name. */
    public static DriftRow from(Row r) {
        return RowCodec.of(DriftRow.class).fromRow(r);
    }
}
