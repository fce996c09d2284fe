package io.compactml.jobs.tables;

import java.sql.Timestamp;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * A row of {@code candidates}: one candidate of a compression plan: how it was made, what was measured, the verdict.
 * Classification fills the accuracy columns, regression {@code mse}, {@code source_mse}, {@code mse_increase}
 * (relative: mse / source mse - 1) and {@code r2}; the others are null.
 */
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
        Double mse,
        Double sourceMse,
        Double mseIncrease,
        Double r2,
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

    /** Whether the plan's models are regression models (judged by MSE, not accuracy). */
    public boolean regression() {
        return accuracy == null && sourceAccuracy == null && sourceMse != null;
    }

    /** What the candidate is judged by: its accuracy, or its MSE for regression. */
    public Double quality() {
        return regression() ? mse : accuracy;
    }

    /** The source's accuracy, or its MSE for regression. */
    public Double sourceQuality() {
        return regression() ? sourceMse : sourceAccuracy;
    }

    /** The loss against the source: accuracy drop in points, or the MSE increase in percent for regression. */
    public Double change() {
        return regression() ? (mseIncrease == null ? null : 100 * mseIncrease) : accuracyDropPoints;
    }

    /** The row {@code r} of {@code candidates}, read by column name. */
    public static CandidateRow from(Row r) {
        return RowCodec.of(CandidateRow.class).fromRow(r);
    }
}
