package io.compactml.jobs.tables;

import io.delta.tables.DeltaTable;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The CompactML Delta tables, path-based under {@code tables.root}, and the two ways rows get there:
 * {@link #replace} (the rows of one run replace that run's earlier rows, atomically) and {@link #upsert}
 * (MERGE on a key). Either way a rerun of a run id leaves the table as one run would.
 */
public final class Tables {

    /** Table names and schemas. Columns are snake_case; times are UTC timestamps. */
    public enum Table {
        RUNS("runs", new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("job", DataTypes.StringType, false)
                .add("status", DataTypes.StringType, false)
                .add("config_hash", DataTypes.StringType)
                .add("project_version", DataTypes.StringType)
                .add("spark_master", DataTypes.StringType)
                .add("started_at", DataTypes.TimestampType)
                .add("ended_at", DataTypes.TimestampType)
                .add("error", DataTypes.StringType)),
        TRAINING_HISTORY("training_history", new StructType()
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
        EVALUATIONS("evaluations", new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("model_name", DataTypes.StringType, false)
                .add("model_sha256", DataTypes.StringType)
                .add("technique", DataTypes.StringType)
                .add("dataset", DataTypes.StringType, false)
                .add("metric", DataTypes.StringType, false)
                .add("value", DataTypes.DoubleType)
                .add("created_at", DataTypes.TimestampType)),
        CALIBRATION_STATS("calibration_stats", new StructType()
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
        QUANT_PARAMS("quant_params", new StructType()
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
                .add("created_at", DataTypes.TimestampType)),
        LAYER_SENSITIVITY("layer_sensitivity", new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("model_sha256", DataTypes.StringType, false)
                .add("method", DataTypes.StringType, false)
                .add("layer", DataTypes.IntegerType, false)
                .add("layer_name", DataTypes.StringType)
                .add("accuracy", DataTypes.DoubleType)
                .add("accuracy_drop", DataTypes.DoubleType)
                .add("sqnr_db", DataTypes.DoubleType)
                .add("created_at", DataTypes.TimestampType)),
        QUANT_DECISIONS("quant_decisions", new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("model_sha256", DataTypes.StringType, false)
                .add("step", DataTypes.IntegerType, false)
                .add("float_layers", DataTypes.createArrayType(DataTypes.IntegerType, false))
                .add("accuracy", DataTypes.DoubleType)
                .add("accuracy_drop", DataTypes.DoubleType)
                .add("within_budget", DataTypes.BooleanType)
                .add("decision", DataTypes.StringType)
                .add("created_at", DataTypes.TimestampType)),
        PARAM_IMPORTANCE("param_importance", new StructType()
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
        SPARSITY("sparsity", new StructType()
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
        TEACHER_OUTPUTS("teacher_outputs", new StructType()
                .add("run_id", DataTypes.StringType, false)
                .add("teacher_sha256", DataTypes.StringType, false)
                .add("dataset", DataTypes.StringType, false)
                .add("dataset_version", DataTypes.StringType, false)
                .add("row_id", DataTypes.LongType, false)
                .add("label", DataTypes.DoubleType)
                .add("outputs", DataTypes.createArrayType(DataTypes.FloatType, false), false)),
        DISTILL_CANDIDATES("distill_candidates", new StructType()
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
        CANDIDATES("candidates", new StructType()
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
        ARTIFACTS("artifacts", new StructType()
                .add("model_name", DataTypes.StringType, false)
                .add("version", DataTypes.StringType, false)
                .add("run_id", DataTypes.StringType)
                .add("technique", DataTypes.StringType)
                .add("uri", DataTypes.StringType)
                .add("model_sha256", DataTypes.StringType)
                .add("source_model_sha256", DataTypes.StringType)
                .add("size_bytes", DataTypes.LongType)
                .add("manifest_sha256", DataTypes.StringType)
                .add("published_at", DataTypes.TimestampType));

        private final String tableName;
        private final StructType schema;

        Table(String tableName, StructType schema) {
            this.tableName = tableName;
            this.schema = schema;
        }

        public String tableName() {
            return tableName;
        }

        public StructType schema() {
            return schema;
        }
    }

    private final SparkSession spark;
    private final String root;

    public Tables(SparkSession spark, String root) {
        this.spark = spark;
        this.root = root;
    }

    public String path(Table t) {
        return new Path(root, t.tableName()).toString();
    }

    public boolean exists(Table t) {
        return DeltaTable.isDeltaTable(spark, path(t));
    }

    public Dataset<Row> read(Table t) {
        return spark.read().format("delta").load(path(t));
    }

    public Dataset<Row> frame(Table t, List<Row> rows) {
        return spark.createDataFrame(rows, t.schema());
    }

    /**
     * Replaces the rows matching {@code predicate} (a SQL condition over the run's key columns, e.g.
     * {@code run_id = 'r1' AND model_name = 'm'}) by {@code rows}, in one Delta commit. Every row must match
     * the predicate (Delta checks it).
     */
    public void replace(Table t, List<Row> rows, String predicate) {
        replace(t, frame(t, rows), predicate);
    }

    /** {@link #replace(Table, List, String)} for rows computed on the executors, written by them. */
    public void replace(Table t, Dataset<Row> df, String predicate) {
        if (!exists(t)) {
            df.write().format("delta").mode("append").save(path(t));
            return;
        }
        df.write().format("delta").mode("overwrite").option("replaceWhere", predicate).save(path(t));
    }

    /** MERGE on {@code keys}: matching rows are updated, others inserted. */
    public void upsert(Table t, List<Row> rows, List<String> keys) {
        Dataset<Row> df = frame(t, rows);
        if (!exists(t)) {
            df.write().format("delta").mode("append").save(path(t));
            return;
        }
        String on = keys.stream().map(k -> "t." + k + " = s." + k).collect(Collectors.joining(" AND "));
        DeltaTable.forPath(spark, path(t)).as("t").merge(df.as("s"), on)
                .whenMatched().updateAll()
                .whenNotMatched().insertAll()
                .execute();
    }

    /** A SQL string literal: single quotes doubled. */
    public static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
