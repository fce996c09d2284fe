package io.compactml.jobs.runtime;

import io.compactml.common.config.CompactConfig;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the one SparkSession a job uses: Delta enabled, Kryo with ND4J's registrator. */
public final class SparkSessions {
    private SparkSessions() {}

    /**
     * A session for {@code job}. The master comes from spark-submit when it set one, else from
     * {@code spark.master}; {@code spark.conf} entries are applied last and win.
     */
    public static SparkSession create(CompactConfig config, String job) {
        SparkConf fromSubmit = new SparkConf();
        SparkSession.Builder b = SparkSession.builder()
                .appName(config.getString("spark.app-name") + "-" + job)
                .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
                // DL4J ships INDArrays inside DataSets between executors; Java serialization is slow for them
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", CompactKryoRegistrator.class.getName())
                .config("spark.sql.session.timeZone", "UTC")
                // jobs submitted from several driver threads at once (distill's candidates) share the cores
                // instead of the first one's stages taking them all
                .config("spark.scheduler.mode", "FAIR")
                // a MERGE adds the columns a newer CompactML writes to a table an older one made (replaces do so
                // with mergeSchema); CompactML's row records are the schemas, so nothing else evolves them
                .config("spark.databricks.delta.schema.autoMerge.enabled", "true");
        String master =
                fromSubmit.contains("spark.master") ? fromSubmit.get("spark.master") : config.getString("spark.master");
        b.master(master);
        if (master.startsWith("local")) {
            // an embedded run serves nobody: no UI, loopback only, few shuffle partitions, and Delta's log read
            // in few tasks (its default of 50 tiny tasks per snapshot dominates small commits on a laptop)
            b.config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.databricks.delta.snapshotPartitions", "2");
        }
        for (Map.Entry<String, String> e : config.getMap("spark.conf").entrySet()) {
            b.config(e.getKey(), e.getValue());
        }
        SparkSession spark = b.getOrCreate();
        return spark;
    }
}
