package io.compactml.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Every table's schema, as the row records derive it, against the schemas the tables were created with (written
 * out here as they were declared before the records existed): a record edit that would change a stored table
 * fails this test. Also the key columns each table declares, and the quoting of the predicates built from them.
 */
class TableSchemasTest {
    /** The stored schemas, column by column with nullability. */
    enum Stored {
        RUNS(
                "runs",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("job", DataTypes.StringType, false)
                        .add("status", DataTypes.StringType, false)
                        .add("config_hash", DataTypes.StringType)
                        .add("project_version", DataTypes.StringType)
                        .add("spark_master", DataTypes.StringType)
                        .add("started_at", DataTypes.TimestampType)
                        .add("ended_at", DataTypes.TimestampType)
                        .add("error", DataTypes.StringType)
                        .add("attempt", DataTypes.IntegerType)
                        .add("driver", DataTypes.StringType)
                        .add("heartbeat_at", DataTypes.TimestampType)),
        TRAINING_HISTORY(
                "training_history",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_name", DataTypes.StringType, false)
                        .add("epoch", DataTypes.IntegerType, false)
                        .add("train_loss", DataTypes.DoubleType)
                        .add("val_loss", DataTypes.DoubleType)
                        .add("val_accuracy", DataTypes.DoubleType)
                        .add("examples", DataTypes.LongType)
                        .add("samples_per_sec", DataTypes.DoubleType)
                        .add("epoch_seconds", DataTypes.DoubleType)
                        .add("elapsed_seconds", DataTypes.DoubleType)
                        .add("workers", DataTypes.IntegerType)
                        .add("created_at", DataTypes.TimestampType)),
        EVALUATIONS(
                "evaluations",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_name", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType)
                        .add("technique", DataTypes.StringType)
                        .add("dataset", DataTypes.StringType, false)
                        .add("metric", DataTypes.StringType, false)
                        .add("value", DataTypes.DoubleType)
                        .add("created_at", DataTypes.TimestampType)),
        CALIBRATION_STATS(
                "calibration_stats",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType, false)
                        .add("dataset", DataTypes.StringType)
                        .add("tensor_index", DataTypes.IntegerType, false)
                        .add("tensor", DataTypes.StringType, false)
                        .add("count", DataTypes.LongType)
                        .add("nan_count", DataTypes.LongType)
                        .add("inf_count", DataTypes.LongType)
                        .add("min", DataTypes.FloatType)
                        .add("max", DataTypes.FloatType)
                        .add("histogram_min", DataTypes.FloatType)
                        .add("histogram_max", DataTypes.FloatType)
                        .add("histogram", DataTypes.createArrayType(DataTypes.LongType, false))
                        .add("created_at", DataTypes.TimestampType)),
        QUANT_PARAMS(
                "quant_params",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType, false)
                        .add("tensor_index", DataTypes.IntegerType, false)
                        .add("tensor", DataTypes.StringType, false)
                        .add("kind", DataTypes.StringType, false)
                        .add("method", DataTypes.StringType, false)
                        .add("granularity", DataTypes.StringType, false)
                        .add("channel", DataTypes.IntegerType, false)
                        .add("scale", DataTypes.FloatType)
                        .add("zero_point", DataTypes.IntegerType)
                        .add("qmin", DataTypes.IntegerType)
                        .add("qmax", DataTypes.IntegerType)
                        .add("clip_min", DataTypes.FloatType)
                        .add("clip_max", DataTypes.FloatType)
                        .add("coverage", DataTypes.DoubleType)
                        .add("created_at", DataTypes.TimestampType)),
        LAYER_SENSITIVITY(
                "layer_sensitivity",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType, false)
                        .add("method", DataTypes.StringType, false)
                        .add("layer", DataTypes.IntegerType, false)
                        .add("weight_bits", DataTypes.IntegerType)
                        .add("layer_name", DataTypes.StringType)
                        .add("accuracy", DataTypes.DoubleType)
                        .add("accuracy_drop", DataTypes.DoubleType)
                        .add("sqnr_db", DataTypes.DoubleType)
                        .add("created_at", DataTypes.TimestampType)),
        QUANT_DECISIONS(
                "quant_decisions",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType, false)
                        .add("step", DataTypes.IntegerType, false)
                        .add("float_layers", DataTypes.createArrayType(DataTypes.IntegerType, false))
                        .add("weight_bits", DataTypes.createArrayType(DataTypes.IntegerType, false))
                        .add("accuracy", DataTypes.DoubleType)
                        .add("accuracy_drop", DataTypes.DoubleType)
                        .add("within_budget", DataTypes.BooleanType)
                        .add("decision", DataTypes.StringType)
                        .add("created_at", DataTypes.TimestampType)),
        PARAM_IMPORTANCE(
                "param_importance",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_sha256", DataTypes.StringType, false)
                        .add("criterion", DataTypes.StringType, false)
                        .add("layer", DataTypes.IntegerType, false)
                        .add("layer_name", DataTypes.StringType)
                        .add("layer_type", DataTypes.StringType)
                        .add("tensor", DataTypes.StringType, false)
                        .add("shape", DataTypes.createArrayType(DataTypes.IntegerType, false))
                        .add("count", DataTypes.LongType)
                        .add("batches", DataTypes.LongType)
                        .add("examples", DataTypes.LongType)
                        .add("mean", DataTypes.DoubleType)
                        .add("std", DataTypes.DoubleType)
                        .add("min", DataTypes.FloatType)
                        .add("p50", DataTypes.FloatType)
                        .add("p90", DataTypes.FloatType)
                        .add("p99", DataTypes.FloatType)
                        .add("max", DataTypes.FloatType)
                        .add("stability_sparsity", DataTypes.DoubleType)
                        .add("half_overlap", DataTypes.DoubleType)
                        .add("global_half_overlap", DataTypes.DoubleType)
                        .add("scores", DataTypes.createArrayType(DataTypes.FloatType, false))
                        .add("created_at", DataTypes.TimestampType)),
        SPARSITY(
                "sparsity",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_name", DataTypes.StringType, false)
                        .add("source_model_sha256", DataTypes.StringType, false)
                        .add("criterion", DataTypes.StringType)
                        .add("structure", DataTypes.StringType)
                        .add("scope", DataTypes.StringType)
                        .add("layer", DataTypes.IntegerType, false)
                        .add("layer_name", DataTypes.StringType)
                        .add("weights", DataTypes.LongType)
                        .add("target_sparsity", DataTypes.DoubleType)
                        .add("actual_sparsity", DataTypes.DoubleType)
                        .add("units_before", DataTypes.IntegerType)
                        .add("units_after", DataTypes.IntegerType)
                        .add("excluded", DataTypes.BooleanType)
                        .add("created_at", DataTypes.TimestampType)),
        TEACHER_OUTPUTS(
                "teacher_outputs",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("teacher_sha256", DataTypes.StringType, false)
                        .add("dataset", DataTypes.StringType, false)
                        .add("dataset_version", DataTypes.StringType, false)
                        .add("row_id", DataTypes.LongType, false)
                        .add("label", DataTypes.DoubleType)
                        .add("outputs", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                        .add("copy", DataTypes.IntegerType, false)
                        .add("augmentation", DataTypes.StringType)),
        DISTILL_CANDIDATES(
                "distill_candidates",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("student", DataTypes.StringType, false)
                        .add("candidate", DataTypes.StringType, false)
                        .add("temperature", DataTypes.DoubleType)
                        .add("alpha", DataTypes.DoubleType)
                        .add("teacher_sha256", DataTypes.StringType)
                        .add("teacher_run", DataTypes.StringType)
                        .add("params", DataTypes.LongType)
                        .add("teacher_params", DataTypes.LongType)
                        .add("epochs", DataTypes.IntegerType)
                        .add("accuracy", DataTypes.DoubleType)
                        .add("loss", DataTypes.DoubleType)
                        .add("teacher_accuracy", DataTypes.DoubleType)
                        .add("mean_epoch_seconds", DataTypes.DoubleType)
                        .add("samples_per_sec", DataTypes.DoubleType)
                        .add("chosen", DataTypes.BooleanType)
                        .add("created_at", DataTypes.TimestampType)),
        CANDIDATES(
                "candidates",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("candidate", DataTypes.StringType, false)
                        .add("config_hash", DataTypes.StringType)
                        .add("steps", DataTypes.createArrayType(DataTypes.StringType, false))
                        .add("candidate_run_id", DataTypes.StringType)
                        .add("model_name", DataTypes.StringType)
                        .add("model_uri", DataTypes.StringType)
                        .add("format", DataTypes.StringType)
                        .add("accuracy", DataTypes.DoubleType)
                        .add("source_accuracy", DataTypes.DoubleType)
                        .add("accuracy_drop_points", DataTypes.DoubleType)
                        .add("mse", DataTypes.DoubleType)
                        .add("source_mse", DataTypes.DoubleType)
                        .add("mse_increase", DataTypes.DoubleType)
                        .add("r2", DataTypes.DoubleType)
                        .add("size_bytes", DataTypes.LongType)
                        .add("source_size_bytes", DataTypes.LongType)
                        .add("latency_single_p50_ms", DataTypes.DoubleType)
                        .add("meets_constraints", DataTypes.BooleanType)
                        .add("pareto_optimal", DataTypes.BooleanType)
                        .add("chosen", DataTypes.BooleanType)
                        .add("decision", DataTypes.StringType)
                        .add("seconds", DataTypes.DoubleType)
                        .add("reused", DataTypes.BooleanType)
                        .add("created_at", DataTypes.TimestampType)),
        ARTIFACTS(
                "artifacts",
                new StructType()
                        .add("model_name", DataTypes.StringType, false)
                        .add("version", DataTypes.StringType, false)
                        .add("run_id", DataTypes.StringType)
                        .add("technique", DataTypes.StringType)
                        .add("uri", DataTypes.StringType)
                        .add("model_sha256", DataTypes.StringType)
                        .add("source_model_sha256", DataTypes.StringType)
                        .add("size_bytes", DataTypes.LongType)
                        .add("manifest_sha256", DataTypes.StringType)
                        .add("published_at", DataTypes.TimestampType)),
        DRIFT(
                "drift",
                new StructType()
                        .add("run_id", DataTypes.StringType, false)
                        .add("model_name", DataTypes.StringType, false)
                        .add("version", DataTypes.StringType, false)
                        .add("window", DataTypes.StringType, false)
                        .add("rows", DataTypes.LongType)
                        .add("tensor_index", DataTypes.IntegerType, false)
                        .add("tensor", DataTypes.StringType, false)
                        .add("metric", DataTypes.StringType, false)
                        .add("value", DataTypes.DoubleType)
                        .add("reference", DataTypes.DoubleType)
                        .add("threshold", DataTypes.DoubleType)
                        .add("drifted", DataTypes.BooleanType)
                        .add("created_at", DataTypes.TimestampType));

        final String name;
        final StructType schema;

        Stored(String name, StructType schema) {
            this.name = name;
            this.schema = schema;
        }
    }

    @Test
    void everyRecordDerivesItsTablesStoredSchema() {
        assertEquals(Stored.values().length, Table.values().length, "one stored schema per table");
        for (Stored s : Stored.values()) {
            Table t = Table.valueOf(s.name());
            assertEquals(s.name, t.tableName());
            assertEquals(
                    s.schema.treeString(), t.schema().treeString(), t.tableName() + ": columns, types, nullability");
        }
    }

    @Test
    void tablesDeclareTheirKeys() {
        Map<Table, List<String>> keys = Map.of(
                Table.RUNS,
                List.of("run_id", "job"),
                Table.EVALUATIONS,
                List.of("run_id", "model_name", "dataset", "metric"),
                Table.QUANT_PARAMS,
                List.of("run_id", "model_sha256", "tensor_index", "kind", "method", "channel"),
                Table.TEACHER_OUTPUTS,
                List.of("run_id", "row_id", "copy"),
                Table.ARTIFACTS,
                List.of("model_name", "version"),
                Table.CANDIDATES,
                List.of("run_id", "candidate"));
        keys.forEach((t, k) -> assertEquals(k, t.keys(), t.tableName()));
    }

    @Test
    void predicatesQuoteEveryLiteralTheWaySparkSqlReadsIt() {
        // Spark SQL reads 'a''b' as two literals, concatenated; a backslash escapes a quote or a backslash
        assertEquals(
                "`run_id` = 'r1' AND `model_name` = 'o\\'brien \\\\ m\u00fcller' AND `layer` = 3",
                Scope.run("r1")
                        .and("model_name", "o'brien \\ m\u00fcller")
                        .and("layer", 3)
                        .predicate());
        assertEquals("`class.id`", Scope.quoted("class.id"));
        assertThrows(IllegalArgumentException.class, () -> Scope.run("r").and("x", 1.5), "a scope compares keys");
    }
}
