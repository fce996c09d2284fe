package io.compactml.jobs.runtime;

import io.compactml.jobs.tables.Tables;
import io.compactml.common.config.CompactConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/** What every job gets: the session, the validated config, the run id and the tables. */
public record JobContext(SparkSession spark, CompactConfig config, String runId, Tables tables) {

    public static JobContext of(SparkSession spark, CompactConfig config, String runId) {
        return new JobContext(spark, config, runId, new Tables(spark, config.getString("tables.root")));
    }

    public JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    public Configuration hadoop() {
        return spark.sparkContext().hadoopConfiguration();
    }

    /** Where {@code train} keeps the model of {@code modelName} trained under {@code run}. */
    public String trainedModelUri(String modelName, String run) {
        return modelFileUri(modelName, run, "model.zip");
    }

    /** {@code models.root/<modelName>/<run>/<file>}: where jobs keep the models they make. */
    public String modelFileUri(String modelName, String run, String file) {
        return new Path(new Path(new Path(config.getString("models.root"), modelName), run), file).toString();
    }

    /** The model a job works on: {@code model.path} when set, else the one trained under this run id. */
    public String modelUri() {
        String explicit = config.getString("model.path");
        return explicit.isEmpty() ? trainedModelUri(config.getString("model.name"), runId) : explicit;
    }
}
