package io.compactml.jobs;

import io.compactml.common.config.CompactConfig;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.SparkSessions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * One {@code local[2]} session for every Spark test of this module (the first Delta write in a cold JVM costs
 * ~30 s; paying it once keeps the suite fast). Each test gets its own tables root under a temp directory.
 */
public final class SharedSpark {
    private static SparkSession spark;

    private SharedSpark() {}

    public static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSessions.create(
                    CompactConfig.load(
                            // local[2, 2]: two threads, and a failed task is retried once, as on a cluster
                            null, List.of("spark.master=\"local[2,2]\"", "spark.conf.\"spark.default.parallelism\"=2")),
                    "test");
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }

    /** A config rooted in a fresh temp directory, small enough for tests, plus {@code sets}. */
    public static CompactConfig config(String... sets) {
        Path dir;
        try {
            dir = Files.createTempDirectory("compactml-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> all = new ArrayList<>(List.of(
                "tables.root=\"" + dir.resolve("warehouse") + "\"",
                "models.root=\"" + dir.resolve("models") + "\"",
                "artifacts.root=\"" + dir.resolve("artifacts") + "\"",
                "evaluate.latency-runs=20"));
        all.addAll(List.of(sets));
        return CompactConfig.load(null, all);
    }

    public static JobContext context(String runId, String... sets) {
        return JobContext.of(session(), config(sets), runId);
    }

    /** A CSV of {@code src/test/resources/cases} (inputs of the cases CompactML once got wrong). */
    public static String csv(String name) {
        try {
            return Path.of(SharedSpark.class.getResource("/cases/" + name).toURI())
                    .toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Settings for training and evaluating a small MLP on one CSV of 4 features and 2 classes, plus {@code more}. */
    public static List<String> onCsv(String file, String features, String label, String... more) {
        List<String> sets = new ArrayList<>(List.of(
                "network.hidden=[8]",
                "network.outputs=2",
                "train.epochs=2",
                "train.batch-size=32",
                "train.learning-rate=0.01",
                "train.validate=false"));
        for (String split : List.of("train", "eval", "calibration")) {
            sets.addAll(List.of(
                    "data." + split + ".format=csv",
                    "data." + split + ".uri=\"" + csv(file) + "\"",
                    "data." + split + ".features=\"" + features + "\"",
                    "data." + split + ".label=\"" + label + "\"",
                    "data." + split + ".scaling=none"));
        }
        sets.addAll(List.of(more));
        return sets;
    }
}
