package io.compactml.jobs.runtime;

import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.config.Locations;
import io.compactml.jobs.tables.Tables;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/** What every job gets: the session, the validated config, the run id and the tables. */
public record JobContext(SparkSession spark, CompactConfig config, String runId, Tables tables) {

    public static JobContext of(SparkSession spark, CompactConfig config, String runId) {
        return new JobContext(
                spark, config, runId, new Tables(spark, Locations.from(config).tablesRoot()));
    }

    /** The same session, config and tables under another run id (a plan's candidates run under their own). */
    public JobContext withRunId(String otherRunId) {
        return new JobContext(spark, config, otherRunId, tables);
    }

    /** Where the tables, models and artifacts are, and the model the job works on. */
    public Locations locations() {
        return Locations.from(config);
    }

    public JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    public Configuration hadoop() {
        return spark.sparkContext().hadoopConfiguration();
    }

    /** A run id setting ({@code quantize.calibration-run}, ...): {@code configured}, or this run's id when empty. */
    public String runIdOr(String configured) {
        return configured.isEmpty() ? runId : configured;
    }

    /** Where {@code train} keeps the model of {@code modelName} trained under {@code run}. */
    public String trainedModelUri(String modelName, String run) {
        return modelFileUri(modelName, run, ModelFormat.DL4J_ZIP.fileName());
    }

    /**
     * Where the job that makes {@code kind} keeps the model of that kind made from the model named
     * {@code source} under this run: {@code models.root/<kind's name for source>/<run>/<kind's file>}.
     */
    public String modelUri(ModelKind kind, String source) {
        return modelFileUri(kind.nameFor(source), runId, kind.format().fileName());
    }

    /** {@code models.root/<modelName>/<run>/<file>}: where jobs keep the models they make. */
    public String modelFileUri(String modelName, String run, String file) {
        return new Path(new Path(new Path(locations().modelsRoot(), modelName), run), file).toString();
    }

    /** The model a job works on: {@code model.path} when set, else the one trained under this run id. */
    public String modelUri() {
        Locations l = locations();
        return l.modelPath().isEmpty() ? trainedModelUri(l.modelName(), runId) : l.modelPath();
    }
}
