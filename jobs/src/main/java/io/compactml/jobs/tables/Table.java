package io.compactml.jobs.tables;

import java.util.List;
import org.apache.spark.sql.types.StructType;

/**
 * The CompactML Delta tables: each one's name and row record. The schema and the key columns come from the
 * record ({@link RowCodec}); a test pins every schema, so that an edit of a record that would change a stored
 * table fails the build.
 */
public enum Table {
    RUNS("runs", RunRow.class),
    TRAINING_HISTORY("training_history", TrainingHistoryRow.class),
    EVALUATIONS("evaluations", EvaluationRow.class),
    CALIBRATION_STATS("calibration_stats", CalibrationStatsRow.class),
    QUANT_PARAMS("quant_params", QuantParamRow.class),
    LAYER_SENSITIVITY("layer_sensitivity", LayerSensitivityRow.class),
    QUANT_DECISIONS("quant_decisions", QuantDecisionRow.class),
    PARAM_IMPORTANCE("param_importance", ParamImportanceRow.class),
    SPARSITY("sparsity", SparsityRow.class),
    TEACHER_OUTPUTS("teacher_outputs", TeacherOutputRow.class),
    DISTILL_CANDIDATES("distill_candidates", DistillCandidateRow.class),
    CANDIDATES("candidates", CandidateRow.class),
    ARTIFACTS("artifacts", ArtifactRow.class),
    DRIFT("drift", DriftRow.class);

    private final String tableName;
    private final Class<? extends TableRow> row;

    Table(String tableName, Class<? extends TableRow> row) {
        this.tableName = tableName;
        this.row = row;
    }

    public String tableName() {
        return tableName;
    }

    /** The record a row of this table is. */
    public Class<? extends TableRow> rowType() {
        return row;
    }

    /** Column names and types, snake_case; times are UTC timestamps. */
    public StructType schema() {
        return RowCodec.of(row).schema();
    }

    /** The columns that identify a row. */
    public List<String> keys() {
        return RowCodec.of(row).keys();
    }
}
