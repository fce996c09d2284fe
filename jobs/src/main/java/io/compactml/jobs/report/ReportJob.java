package io.compactml.jobs.report;

import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.CalibrationStatsRow;
import io.compactml.jobs.tables.CandidateRow;
import io.compactml.jobs.tables.DriftRow;
import io.compactml.jobs.tables.LayerSensitivityRow;
import io.compactml.jobs.tables.ParamImportanceRow;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.RowCodec;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.tables.TableRow;
import io.compactml.jobs.tables.TrainingHistoryRow;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.functions;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.statistics.HistogramType;
import org.jfree.data.time.Millisecond;
import org.jfree.data.time.TimeSeries;
import org.jfree.data.xy.XYSeries;

/**
 * {@code report}: an HTML page with PNG charts ({@link Charts}) from the Delta tables of one run (a pipeline or
 * demo run and the candidate runs under it, {@code <run>.<candidate>}): accuracy against size of every
 * candidate with the Pareto front and the chosen one, training curves, per-layer sensitivity, activation
 * histograms with the clip range each calibration method chose, and the distribution of importance scores per
 * layer. Written to {@code report.dir/<run>/}; a section whose table has no rows for the run says so.
 */
public final class ReportJob {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 420;

    private final JobContext ctx;
    private final String run;
    private final Path dir;
    private final List<String> written = new ArrayList<>();

    public ReportJob(JobContext ctx) {
        this.ctx = ctx;
        this.run = ctx.runIdOr(ctx.config().getString("report.run"));
        this.dir = new Path(new Path(ctx.config().getString("report.dir")), run);
    }

    /** Where the report went and the files written. */
    public record Result(String index, List<String> files) {}

    public Result run() {
        System.setProperty("java.awt.headless", "true");
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>CompactML run ")
                .append(esc(run))
                .append("</title>\n<style>body{font-family:DejaVu Sans,Helvetica,sans-serif;"
                        + "margin:2em;max-width:1000px;color:#222}table{border-collapse:collapse;font-size:13px}"
                        + "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td.l,th.l{text-align:left}"
                        + "tr.chosen{background:#e6f4e6;font-weight:bold}h2{margin-top:1.6em}p.none{color:#888}"
                        + "</style></head><body>\n<h1>CompactML run ")
                .append(esc(run))
                .append("</h1>\n");
        int sections = candidates(html)
                + trainingCurves(html)
                + sensitivity(html)
                + activations(html)
                + importance(html)
                + drift(html);
        if (sections == 0) {
            throw Errors.badConfigValue(
                    "report.run",
                    run,
                    "a run id with rows in the tables under " + ctx.locations().tablesRoot()
                            + " (a pipeline or demo run)");
        }
        html.append("</body></html>\n");
        write("index.html", html.toString().getBytes(StandardCharsets.UTF_8));
        String index = new Path(dir, "index.html").toString();
        Console.out("report of run %s: %s (%d charts)", run, index, written.size() - 1);
        return new Result(index, List.copyOf(written));
    }

    /** Rows of {@code t} for the run and the candidate runs under it, in {@code order}; none without the table. */
    private <R extends TableRow> List<R> rows(Table t, Class<R> type, Comparator<R> order) {
        if (!ctx.tables().exists(t)) {
            return List.of();
        }
        RowCodec<R> codec = RowCodec.of(type);
        return ctx
                .tables()
                .read(t)
                .filter(functions
                        .col("run_id")
                        .equalTo(run)
                        .or(functions.col("run_id").startsWith(run + ".")))
                .collectAsList()
                .stream()
                .map(codec::fromRow)
                .sorted(order)
                .toList();
    }

    private int candidates(StringBuilder html) {
        List<CandidateRow> rows =
                rows(Table.CANDIDATES, CandidateRow.class, Comparator.comparing(CandidateRow::sizeBytes));
        if (!section(html, "Candidates: accuracy against size", rows, "No pipeline candidates in this run.")) {
            return 0;
        }
        figure(html, "candidates.png", Charts.candidates(run, rows), "accuracy against size of every candidate");
        boolean regression = rows.get(0).regression();
        html.append("<table><tr><th class=\"l\">candidate</th><th class=\"l\">model</th><th>"
                + (regression ? "MSE" : "accuracy") + "</th>"
                + (regression ? "<th>MSE increase (%)</th>" : "<th>drop (points)</th>")
                + "<th>bytes</th><th>smaller</th><th>latency p50 (ms)</th><th>Pareto</th>"
                + "<th class=\"l\">decision</th></tr>\n");
        html.append(String.format(
                Locale.ROOT,
                "<tr><td class=\"l\">source</td><td class=\"l\"></td><td>%.4f</td>"
                        + "<td></td><td>%,d</td><td>1.0x</td><td></td><td></td><td class=\"l\"></td></tr>%n",
                rows.get(0).sourceQuality(),
                rows.get(0).sourceSizeBytes()));
        for (CandidateRow r : rows) {
            html.append(String.format(
                    Locale.ROOT,
                    "<tr%s><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.4f</td>"
                            + "<td>%.2f</td><td>%,d</td><td>%.1fx</td><td>%s</td><td>%s</td><td class=\"l\">%s</td></tr>%n",
                    r.chosen() ? " class=\"chosen\"" : "",
                    esc(r.candidate()),
                    esc(r.modelName()),
                    r.quality(),
                    r.change(),
                    r.sizeBytes(),
                    r.sourceSizeBytes() / (double) r.sizeBytes(),
                    r.latencySingleP50Ms() == null ? "" : String.format(Locale.ROOT, "%.3f", r.latencySingleP50Ms()),
                    r.paretoOptimal() ? "yes" : "",
                    esc(r.decision())));
        }
        html.append("</table>\n");
        return 1;
    }

    private int trainingCurves(StringBuilder html) {
        List<TrainingHistoryRow> rows = rows(
                Table.TRAINING_HISTORY,
                TrainingHistoryRow.class,
                Comparator.comparing(TrainingHistoryRow::runId).thenComparing(TrainingHistoryRow::epoch));
        if (!section(html, "Training curves", rows, "No training in this run.")) {
            return 0;
        }
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (TrainingHistoryRow r : rows) {
            if (r.valAccuracy() != null) {
                String name = r.modelName() + (r.runId().equals(run) ? "" : " (" + r.runId() + ")");
                series.computeIfAbsent(name, XYSeries::new).add(r.epoch(), r.valAccuracy());
            }
        }
        figure(html, "training.png", Charts.trainingCurves(series), "validation accuracy per epoch");
        return 1;
    }

    private int sensitivity(StringBuilder html) {
        List<LayerSensitivityRow> rows = rows(
                Table.LAYER_SENSITIVITY,
                LayerSensitivityRow.class,
                Comparator.comparing(LayerSensitivityRow::runId).thenComparing(LayerSensitivityRow::layer));
        if (!section(html, "Per-layer sensitivity to int8", rows, "No quantization in this run.")) {
            return 0;
        }
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (LayerSensitivityRow r : rows) {
            if (r.accuracyDrop() != null) { // regression models have no accuracy drop
                data.addValue(
                        r.accuracyDrop(),
                        (r.runId().equals(run) ? run : r.runId().substring(run.length() + 1))
                                + (r.weightBits() == null || r.weightBits() == 8 ? "" : " " + r.weightBits() + "-bit"),
                        r.layer() + ":" + (r.layerName() == null ? "" : r.layerName()));
            }
        }
        figure(html, "sensitivity.png", Charts.sensitivity(data), "per-layer sensitivity");
        return 1;
    }

    private int activations(StringBuilder html) {
        List<CalibrationStatsRow> stats = rows(
                Table.CALIBRATION_STATS,
                CalibrationStatsRow.class,
                Comparator.comparing(CalibrationStatsRow::runId).thenComparing(CalibrationStatsRow::tensorIndex));
        if (!section(html, "Activation histograms and chosen clip ranges", stats, "No calibration in this run.")) {
            return 0;
        }
        List<QuantParamRow> clips = rows(
                Table.QUANT_PARAMS,
                QuantParamRow.class,
                Comparator.comparing(QuantParamRow::runId).thenComparing(QuantParamRow::tensorIndex));
        String first = stats.get(0).runId();
        html.append("<p>Calibration of run ")
                .append(esc(first))
                .append(": counts on a log scale; a dashed pair of"
                        + " lines per method marks the range it keeps (values outside are clipped).</p>\n");
        for (CalibrationStatsRow s : stats) {
            if (s.runId().equals(first)) {
                List<QuantParamRow> mine = clips.stream()
                        .filter(q -> q.runId().equals(first)
                                && q.modelSha256().equals(s.modelSha256())
                                && q.tensorIndex() == s.tensorIndex()
                                && "activation".equals(q.kind()))
                        .toList();
                figure(
                        html,
                        "activations-" + s.tensorIndex() + ".png",
                        Charts.activation(s, mine),
                        "activation histogram of " + esc(s.tensor()));
            }
        }
        return 1;
    }

    private int importance(StringBuilder html) {
        List<ParamImportanceRow> rows = rows(
                Table.PARAM_IMPORTANCE,
                ParamImportanceRow.class,
                Comparator.comparing(ParamImportanceRow::runId).thenComparing(ParamImportanceRow::layer));
        if (!section(
                html,
                "Importance scores per layer",
                rows,
                "No importance scores in this run (magnitude pruning needs none).")) {
            return 0;
        }
        Map<String, HistogramDataset> byCriterion = new LinkedHashMap<>();
        Map<String, Boolean> perChannel = new LinkedHashMap<>();
        for (ParamImportanceRow r : rows) {
            // per-weight scores span decades (log10 of the positive ones); channel entropies are 0 to 6 bits
            boolean channels = ParamImportanceRow.CHANNELS.equals(r.tensor());
            double[] values = new double[r.scores().length];
            int n = 0;
            for (float v : r.scores()) {
                if (channels) {
                    values[n++] = v;
                } else if (v > 0) {
                    values[n++] = Math.log10(v);
                }
            }
            if (n > 0) {
                String title = r.criterion() + ", run " + r.runId();
                perChannel.put(title, channels);
                byCriterion
                        .computeIfAbsent(title, k -> {
                            HistogramDataset h = new HistogramDataset();
                            h.setType(HistogramType.RELATIVE_FREQUENCY);
                            return h;
                        })
                        .addSeries(
                                "layer " + r.layer() + (r.layerName() == null ? "" : " " + r.layerName()),
                                java.util.Arrays.copyOf(values, n),
                                60);
            }
        }
        byCriterion.forEach((title, data) -> figure(
                html,
                "importance-" + title.replaceAll("[^A-Za-z0-9.-]+", "-") + ".png",
                Charts.importance(title, data, perChannel.get(title)),
                "importance scores"));
        return 1;
    }

    /**
     * For a monitor run: its window's metrics, and the PSI of every tensor of the model over all monitor runs up to
     * this one (drift over time).
     */
    private int drift(StringBuilder html) {
        List<DriftRow> mine = rows(Table.DRIFT, DriftRow.class, Comparator.comparing(DriftRow::tensorIndex));
        if (mine.isEmpty()) {
            return 0;
        }
        section(html, "Drift against the calibration statistics", mine, "");
        DriftRow first = mine.get(0);
        html.append("<p>")
                .append(esc(first.modelName() + " " + first.version() + ", " + first.window()))
                .append(", ")
                .append(first.rows())
                .append(" rows.</p>\n<table><tr><th class=\"l\">tensor</th><th class=\"l\">metric</th><th>value</th>"
                        + "<th>threshold</th><th class=\"l\">verdict</th></tr>\n");
        for (DriftRow r : mine) {
            html.append(String.format(
                    java.util.Locale.ROOT,
                    "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.5g</td><td>%.5g</td><td class=\"l\">%s</td></tr>%n",
                    esc(r.tensor()),
                    r.metric(),
                    r.value(),
                    r.threshold(),
                    r.drifted() ? "drift" : "ok"));
        }
        html.append("</table>\n");
        Timestamp until = first.createdAt();
        List<DriftRow> history = ctx
                .tables()
                .read(Table.DRIFT)
                .filter(functions
                        .col("model_name")
                        .equalTo(first.modelName())
                        .and(functions.col("created_at").leq(until))
                        .and(functions.col("metric").isin("psi", "prediction_psi")))
                .collectAsList()
                .stream()
                .map(DriftRow::from)
                .sorted(Comparator.comparing(DriftRow::createdAt))
                .toList();
        Map<String, TimeSeries> series = new LinkedHashMap<>();
        for (DriftRow r : history) {
            series.computeIfAbsent(r.tensor(), TimeSeries::new)
                    .addOrUpdate(new Millisecond(r.createdAt()), Math.max(r.value(), 1e-6));
        }
        figure(
                html,
                "drift.png",
                Charts.driftOverTime(first.modelName(), series, first.threshold()),
                "PSI per tensor over monitor runs");
        return 1;
    }

    /** A section's heading; when the run has no {@code rows} for it, also why, and false. */
    private static boolean section(StringBuilder html, String title, List<?> rows, String none) {
        html.append("<h2>").append(title).append("</h2>\n");
        if (rows.isEmpty()) {
            html.append("<p class=\"none\">").append(none).append("</p>\n");
            return false;
        }
        return true;
    }

    /** Renders {@code chart} to {@code file} and links it from the page. */
    private void figure(StringBuilder html, String file, JFreeChart chart, String alt) {
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(file, png.toByteArray());
        html.append("<img src=\"").append(file).append("\" alt=\"").append(alt).append("\">\n");
    }

    private void write(String file, byte[] bytes) {
        Path p = new Path(dir, file);
        try {
            HadoopFiles.write(HadoopFiles.fs(p, ctx.hadoop()), p, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Writing " + p, e);
        }
        written.add(file);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
