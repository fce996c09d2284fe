package io.compactml.jobs.monitor;

import io.compactml.common.Errors;
import java.sql.Timestamp;
import java.time.Instant;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The {@code inference_log} Delta table {@code serve} appends to: {@code model string, version string, time
 * timestamp, features array<float>, outputs array<float>, prediction int}, at {@code serve.log-uri} (default
 * {@code <tables.root>/inference_log}).
 */
public final class InferenceLogTable {
    private InferenceLogTable() {}

    /**
     * The rows of {@code model} logged in [start, end) (either bound may be null: open).
     *
     * @throws io.compactml.common.CompactMLException (usage) when there is no inference log at {@code uri}
     */
    public static Dataset<Row> read(SparkSession spark, String uri, String model, Instant start, Instant end) {
        Dataset<Row> log;
        try {
            log = spark.read().format("delta").load(uri);
        } catch (Exception e) {
            if (e.getClass().getSimpleName().equals("AnalysisException")) {
                throw Errors.badArguments("No inference log at " + uri + " (serve.log-uri): serve with"
                        + " serve.log-fraction > 0 first, or monitor a data set with monitor.source = data.");
            }
            throw e;
        }
        Column keep = functions.col("model").equalTo(model);
        if (start != null) {
            keep = keep.and(functions.col("time").geq(functions.lit(Timestamp.from(start))));
        }
        if (end != null) {
            keep = keep.and(functions.col("time").lt(functions.lit(Timestamp.from(end))));
        }
        return log.filter(keep);
    }
}
