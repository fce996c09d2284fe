package io.compactml.bench;

import io.compactml.common.data.DatasetSpec;
import io.compactml.common.monitor.MonitorSettings;
import io.compactml.common.monitor.WindowStatistics;
import io.compactml.jobs.cli.JobOptions;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.monitor.DriftReport;
import io.compactml.jobs.monitor.MonitorJob;
import io.compactml.jobs.monitor.Reference;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.JobRunner;
import io.compactml.jobs.tables.DriftRow;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Benchmark behind {@code bench/drift.sh}: {@code monitor}'s statistics on real shifts of Fashion-MNIST, in one
 * Spark session, against the published model's calibration: {@code --windows} clean random windows of
 * {@code --window-rows} test images (the false-alarm rate), then the whole test set as it is and shifted: darker
 * (x 0.5), brighter (+0.3), inverted (1 - x) and Gaussian noise (sigma 0.2), in the model's input units. Prints per
 * window the input tensor's PSI and saturation rate, the largest PSI and JS distance over all tensors, the
 * prediction PSI, the accuracy and the verdict.
 */
@Command(name = "drift-benchmark", mixinStandardHelpOptions = true, description = "Drift statistics on real shifts.")
public final class DriftBenchmark implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Option(names = "--windows", defaultValue = "20", description = "Clean random windows (default 20).")
    int windows;

    @Option(names = "--window-rows", defaultValue = "1000", description = "Test images per clean window.")
    int windowRows;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DriftBenchmark()).execute(args));
    }

    @Override
    public Integer call() {
        JobRunner.run("drift-benchmark", options.load(), options.runId("drift-benchmark"), this::measure);
        return 0;
    }

    private void measure(JobContext ctx) {
        MonitorJob job = new MonitorJob(ctx);
        MonitorSettings s = MonitorSettings.from(ctx.config());
        MonitorJob.Served served = job.served(s);
        Reference ref = job.reference(served, s);
        SparkData.Loaded test = SparkData.load(ctx.spark(), DatasetSpec.from(ctx.config(), "monitor"));
        Dataset<Row> rows = test.rows().cache();
        double unit = test.spec().scaling().divisor();
        int alarms = 0;
        for (int k = 0; k < windows; k++) {
            Dataset<Row> w = rows.orderBy(functions.rand(k)).limit(windowRows);
            DriftReport r = report(job, served, ref, test, w, "clean window " + k, s);
            alarms += r.drifted() ? 1 : 0;
        }
        Console.out("false alarms: %d of %d clean windows of %d images", alarms, windows, windowRows);
        for (Map.Entry<String, String> shift : shifts(unit).entrySet()) {
            Dataset<Row> shifted =
                    rows.withColumn("features", functions.expr(shift.getValue()).cast("array<float>"));
            report(job, served, ref, test, shifted, shift.getKey(), s);
        }
        rows.unpersist();
    }

    /** The shifts, as SQL on the stored features (raw units: the model's input times {@code unit}). */
    private static Map<String, String> shifts(double unit) {
        String u = String.format(Locale.ROOT, "%sD", unit);
        // a standard normal per (row, pixel) by Box-Muller on two hashes: the same noise in any partitioning
        String normal = "sqrt(-2D * ln((pmod(hash(row_id, i, 1), 2147483647) + 1D) / 2147483648D))"
                + " * cos(2D * pi() * pmod(hash(row_id, i, 2), 2147483647) / 2147483647D)";
        Map<String, String> m = new LinkedHashMap<>();
        m.put("test set as it is", "features");
        m.put("darker x0.5", "transform(features, x -> x * 0.5D)");
        m.put("brighter +0.3", "transform(features, x -> x + 0.3D * " + u + ")");
        m.put("inverted 1-x", "transform(features, x -> " + u + " - x)");
        m.put("noise sigma 0.2", "transform(features, (x, i) -> x + 0.2D * " + u + " * " + normal + ")");
        return m;
    }

    private static DriftReport report(
            MonitorJob job,
            MonitorJob.Served served,
            Reference ref,
            SparkData.Loaded test,
            Dataset<Row> rows,
            String name,
            MonitorSettings s) {
        SparkData.Loaded window = new SparkData.Loaded(test.spec(), rows, test.inputs());
        WindowStatistics w = job.measure(served, window, true);
        DriftReport r = job.compare(served, ref, name, w, s);
        Console.out(
                "drift %-20s rows %6d  input psi %8.4f  input saturation %.5f  max psi %8.4f  max js %.4f"
                        + "  prediction psi %7.4f  accuracy %.4f  %s",
                name,
                w.rows(),
                value(r, "input", "psi"),
                value(r, "input", "saturation_rate"),
                max(r, "psi"),
                max(r, "js_distance"),
                value(r, "predictions", "prediction_psi"),
                w.accuracy(),
                r.drifted() ? "DRIFT" : "no drift");
        return r;
    }

    private static double value(DriftReport r, String tensor, String metric) {
        return r.drift().stream()
                .filter(d -> d.tensor().equals(tensor) && d.metric().equals(metric))
                .mapToDouble(DriftRow::value)
                .findFirst()
                .orElse(Double.NaN);
    }

    private static double max(DriftReport r, String metric) {
        return r.drift().stream()
                .filter(d -> d.metric().equals(metric))
                .mapToDouble(DriftRow::value)
                .max()
                .orElse(Double.NaN);
    }
}
