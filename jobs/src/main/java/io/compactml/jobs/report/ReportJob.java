package io.compactml.jobs.report;

import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code report}: an HTML page with PNG charts (JFreeChart) from the Delta tables of one run (a pipeline or
 * demo run and the candidate runs under it, {@code <run>.<candidate>}): accuracy against size of every
 * candidate with the Pareto front and the chosen one, training curves, per-layer sensitivity, activation
 * histograms with the clip range each calibration method chose, and the distribution of importance scores per
 * layer. Written to {@code report.dir/<run>/}; a section whose table has no rows for the run says so.
 */
public final class ReportJob {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 420;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private final JobContext ctx;
    private final String run;
    private final Path dir;
    private final List<String> written = new ArrayList<>();

    public ReportJob(JobContext ctx) {
        this.ctx = ctx;
        String r = ctx.config().getString("report.run");
        this.run = r.isEmpty() ? ctx.runId() : r;
        this.dir = new Path(new Path(ctx.config().getString("report.dir")), run);
    }

    /** Where the report went and the files written. */
    public record Result(String index, List<String> files) {
    }

    public Result run() {
        System.setProperty("java.awt.headless", "true");
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>CompactML run ")
                .append(esc(run)).append("</title>\n<style>body{font-family:DejaVu Sans,Helvetica,sans-serif;"
                        + "margin:2em;max-width:1000px;color:#222}table{border-collapse:collapse;font-size:13px}"
                        + "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td.l,th.l{text-align:left}"
                        + "tr.chosen{background:#e6f4e6;font-weight:bold}h2{margin-top:1.6em}p.none{color:#888}"
                        + "</style></head><body>\n<h1>CompactML run ").append(esc(run)).append("</h1>\n");
        int sections = 0;
        sections += candidates(html);
        sections += trainingCurves(html);
        sections += sensitivity(html);
        sections += activations(html);
        sections += importance(html);
        if (sections == 0) {
            throw Errors.badConfigValue("report.run", run, "a run id with rows in the tables under "
                    + ctx.config().getString("tables.root") + " (a pipeline or demo run)");
        }
        html.append("</body></html>\n");
        write("index.html", html.toString().getBytes(StandardCharsets.UTF_8));
        String index = new Path(dir, "index.html").toString();
        Console.out("report of run %s: %s (%d charts)", run, index, written.size() - 1);
        return new Result(index, List.copyOf(written));
    }

    /** Rows of {@code t} for the run and the candidate runs under it; empty when the table does not exist. */
    private List<Row> rows(Tables.Table t, String orderBy, String... columns) {
        if (!ctx.tables().exists(t)) {
            return List.of();
        }
        Dataset<Row> df = ctx.tables().read(t).filter(functions.col("run_id").equalTo(run)
                .or(functions.col("run_id").startsWith(run + ".")));
        return df.orderBy(java.util.Arrays.stream(orderBy.split(",\\s*")).map(functions::col)
                .toArray(org.apache.spark.sql.Column[]::new)).selectExpr(columns).collectAsList();
    }

    private int candidates(StringBuilder html) {
        List<Row> rows = rows(Tables.Table.CANDIDATES, "size_bytes", "candidate", "model_name", "accuracy",
                "accuracy_drop_points", "size_bytes", "source_size_bytes", "source_accuracy", "latency_single_p50_ms",
                "pareto_optimal", "chosen", "decision");
        if (!section(html, "Candidates: accuracy against size", rows, "No pipeline candidates in this run.")) {
            return 0;
        }
        XYSeries all = new XYSeries("candidate");
        XYSeries front = new XYSeries("Pareto front");
        XYSeries chosen = new XYSeries("chosen");
        XYSeries source = new XYSeries("source");
        source.add(rows.get(0).getLong(5) / 1e6, rows.get(0).getDouble(6));
        for (Row r : rows) {
            double mb = r.getLong(4) / 1e6;
            all.add(mb, r.getDouble(2));
            if (r.getBoolean(8)) {
                front.add(mb, r.getDouble(2));
            }
            if (r.getBoolean(9)) {
                chosen.add(mb, r.getDouble(2));
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : List.of(all, front, chosen, source)) {
            data.addSeries(s);
        }
        LogAxis x = new LogAxis("artifact size (MB, log scale)");
        x.setSmallestValue(1e-3);
        x.setNumberFormatOverride(new java.text.DecimalFormat("0.###"));
        NumberAxis y = new NumberAxis("accuracy on the evaluation set");
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesLinesVisible(0, false);
        renderer.setSeriesLinesVisible(1, true);
        renderer.setSeriesShapesVisible(1, false);
        renderer.setSeriesStroke(1, new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
                new float[] {6f, 4f}, 0f));
        renderer.setSeriesLinesVisible(2, false);
        renderer.setSeriesShape(2, new Ellipse2D.Double(-9, -9, 18, 18));
        renderer.setSeriesShapesFilled(2, false);
        renderer.setSeriesStroke(2, new BasicStroke(2.5f));
        renderer.setSeriesLinesVisible(3, false);
        renderer.setSeriesShape(3, new java.awt.Rectangle(-5, -5, 10, 10));
        for (int i = 0; i < 4; i++) {
            renderer.setSeriesPaint(i, new Color[] {PALETTE[0], Color.GRAY, PALETTE[3], Color.BLACK}[i]);
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (Row r : rows) {
            org.jfree.chart.annotations.XYTextAnnotation label = new org.jfree.chart.annotations.XYTextAnnotation(
                    "  " + r.getString(0), r.getLong(4) / 1e6, r.getDouble(2));
            label.setFont(new Font("DejaVu Sans", Font.PLAIN, 10));
            label.setTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addAnnotation(label);
        }
        chart("candidates.png", new JFreeChart("Candidates of run " + run, JFreeChart.DEFAULT_TITLE_FONT, plot, true));
        html.append("<img src=\"candidates.png\" alt=\"accuracy against size of every candidate\">\n<table><tr>"
                + "<th class=\"l\">candidate</th><th class=\"l\">model</th><th>accuracy</th><th>drop (points)</th>"
                + "<th>bytes</th><th>smaller</th><th>latency p50 (ms)</th><th>Pareto</th>"
                + "<th class=\"l\">decision</th></tr>\n");
        html.append(String.format(Locale.ROOT, "<tr><td class=\"l\">source</td><td class=\"l\"></td><td>%.4f</td>"
                + "<td></td><td>%,d</td><td>1.0x</td><td></td><td></td><td class=\"l\"></td></tr>%n",
                rows.get(0).getDouble(6), rows.get(0).getLong(5)));
        for (Row r : rows) {
            html.append(String.format(Locale.ROOT, "<tr%s><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%.4f</td>"
                            + "<td>%.2f</td><td>%,d</td><td>%.1fx</td><td>%s</td><td>%s</td><td class=\"l\">%s</td></tr>%n",
                    r.getBoolean(9) ? " class=\"chosen\"" : "", esc(r.getString(0)), esc(r.getString(1)),
                    r.getDouble(2), r.getDouble(3), r.getLong(4), r.getLong(5) / (double) r.getLong(4),
                    r.isNullAt(7) ? "" : String.format(Locale.ROOT, "%.3f", r.getDouble(7)),
                    r.getBoolean(8) ? "yes" : "", esc(r.getString(10))));
        }
        html.append("</table>\n");
        return 1;
    }

    private int trainingCurves(StringBuilder html) {
        List<Row> rows = rows(Tables.Table.TRAINING_HISTORY, "run_id, epoch", "run_id", "model_name", "epoch",
                "val_accuracy");
        if (!section(html, "Training curves", rows, "No training in this run.")) {
            return 0;
        }
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.isNullAt(3)) {
                continue;
            }
            String name = r.getString(1) + (r.getString(0).equals(run) ? "" : " (" + r.getString(0) + ")");
            series.computeIfAbsent(name, XYSeries::new).add(r.getInt(2), r.getDouble(3));
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = org.jfree.chart.ChartFactory.createXYLineChart("Validation accuracy per epoch", "epoch",
                "validation accuracy", data, PlotOrientation.VERTICAL, true, false, false);
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        chart.getXYPlot().setRenderer(renderer);
        style(chart.getXYPlot());
        chart("training.png", chart);
        html.append("<img src=\"training.png\" alt=\"validation accuracy per epoch\">\n");
        return 1;
    }

    private int sensitivity(StringBuilder html) {
        List<Row> rows = rows(Tables.Table.LAYER_SENSITIVITY, "run_id, layer", "run_id", "layer", "layer_name",
                "accuracy_drop");
        if (!section(html, "Per-layer sensitivity to int8", rows, "No quantization in this run.")) {
            return 0;
        }
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Row r : rows) {
            if (r.isNullAt(3)) {
                continue;  // regression models have no accuracy drop
            }
            data.addValue(r.getDouble(3), r.getString(0).equals(run) ? run : r.getString(0).substring(run.length() + 1),
                    r.getInt(1) + ":" + (r.isNullAt(2) ? "" : r.getString(2)));
        }
        JFreeChart chart = org.jfree.chart.ChartFactory.createBarChart("Accuracy lost with only this layer in int8",
                "layer", "accuracy drop (points)", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
        for (int i = 0; i < data.getRowCount(); i++) {
            bars.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        chart("sensitivity.png", chart);
        html.append("<img src=\"sensitivity.png\" alt=\"per-layer sensitivity\">\n");
        return 1;
    }

    private int activations(StringBuilder html) {
        List<Row> stats = rows(Tables.Table.CALIBRATION_STATS, "run_id, tensor_index", "run_id", "model_sha256",
                "tensor_index", "tensor", "histogram_min", "histogram_max", "histogram");
        if (!section(html, "Activation histograms and chosen clip ranges", stats,
                "No calibration in this run.")) {
            return 0;
        }
        List<Row> clips = rows(Tables.Table.QUANT_PARAMS, "run_id, tensor_index", "run_id", "model_sha256",
                "tensor_index", "method", "clip_min", "clip_max", "kind");
        String first = stats.get(0).getString(0);
        html.append("<p>Calibration of run ").append(esc(first)).append(": counts on a log scale; a dashed pair of"
                + " lines per method marks the range it keeps (values outside are clipped).</p>\n");
        int n = 0;
        for (Row s : stats) {
            if (!s.getString(0).equals(first)) {
                continue;
            }
            List<Long> counts = s.getList(6);
            double lo = s.getFloat(4);
            double hi = s.getFloat(5);
            double width = (hi - lo) / counts.size();
            XYSeries hist = new XYSeries("count");
            for (int i = 0; i < counts.size(); i++) {
                if (counts.get(i) > 0) {
                    hist.add(lo + (i + 0.5) * width, counts.get(i));
                }
            }
            LogAxis y = new LogAxis("count (log scale)");
            y.setSmallestValue(1);
            y.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
            y.setNumberFormatOverride(new java.text.DecimalFormat("#,##0"));
            NumberAxis x = new NumberAxis("activation value");
            x.setAutoRangeIncludesZero(false);
            XYLineAndShapeRenderer line = new XYLineAndShapeRenderer(true, false);
            line.setSeriesPaint(0, PALETTE[0]);
            XYPlot plot = new XYPlot(new XYSeriesCollection(hist), x, y, line);
            style(plot);
            int m = 0;
            for (Row q : clips) {
                if (q.getString(0).equals(first) && q.getString(1).equals(s.getString(1))
                        && q.getInt(2) == s.getInt(2) && "activation".equals(q.getString(6))) {
                    Color c = PALETTE[(1 + m++) % PALETTE.length];
                    for (int k = 4; k <= 5; k++) {
                        ValueMarker marker = new ValueMarker(q.getFloat(k), c, new BasicStroke(1.5f,
                                BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {5f, 3f}, 0f));
                        if (k == 5) {
                            marker.setLabel(q.getString(3));
                            marker.setLabelFont(new Font("DejaVu Sans", Font.PLAIN, 10));
                            marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
                            marker.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
                            marker.setLabelOffset(new org.jfree.chart.ui.RectangleInsets(4 + 12 * m, 2, 2, 2));
                        }
                        plot.addDomainMarker(marker);
                    }
                }
            }
            String file = "activations-" + s.getInt(2) + ".png";
            chart(file, new JFreeChart("Tensor " + s.getInt(2) + ": " + s.getString(3), JFreeChart.DEFAULT_TITLE_FONT,
                    plot, false));
            html.append("<img src=\"").append(file).append("\" alt=\"activation histogram of ")
                    .append(esc(s.getString(3))).append("\">\n");
            n++;
        }
        return n > 0 ? 1 : 0;
    }

    private int importance(StringBuilder html) {
        List<Row> rows = rows(Tables.Table.PARAM_IMPORTANCE, "run_id, layer", "run_id", "criterion", "layer",
                "layer_name", "scores");
        if (!section(html, "Importance scores per layer", rows,
                "No importance scores in this run (magnitude pruning needs none).")) {
            return 0;
        }
        Map<String, HistogramDataset> byCriterion = new LinkedHashMap<>();
        for (Row r : rows) {
            List<Float> scores = r.getList(4);
            double[] logs = scores.stream().filter(v -> v > 0).mapToDouble(v -> Math.log10(v)).toArray();
            if (logs.length > 0) {
                byCriterion.computeIfAbsent(r.getString(1) + ", run " + r.getString(0), k -> {
                    HistogramDataset h = new HistogramDataset();
                    h.setType(org.jfree.data.statistics.HistogramType.RELATIVE_FREQUENCY);
                    return h;
                })
                        .addSeries("layer " + r.getInt(2) + (r.isNullAt(3) ? "" : " " + r.getString(3)), logs, 60);
            }
        }
        for (Map.Entry<String, HistogramDataset> e : byCriterion.entrySet()) {
            JFreeChart chart = org.jfree.chart.ChartFactory.createHistogram("Importance scores: " + e.getKey(),
                    "log10(score)", "fraction of the layer's weights", e.getValue(), PlotOrientation.VERTICAL, true,
                    false, false);
            XYPlot plot = chart.getXYPlot();
            style(plot);
            plot.setForegroundAlpha(0.6f);
            ((org.jfree.chart.renderer.xy.XYBarRenderer) plot.getRenderer())
                    .setBarPainter(new org.jfree.chart.renderer.xy.StandardXYBarPainter());
            String file = "importance-" + e.getKey().replaceAll("[^A-Za-z0-9.-]+", "-") + ".png";
            chart(file, chart);
            html.append("<img src=\"").append(file).append("\" alt=\"importance scores\">\n");
        }
        return 1;
    }

    /** A section's heading; when the run has no {@code rows} for it, also why, and false. */
    private static boolean section(StringBuilder html, String title, List<Row> rows, String none) {
        html.append("<h2>").append(title).append("</h2>\n");
        if (rows.isEmpty()) {
            html.append("<p class=\"none\">").append(none).append("</p>\n");
            return false;
        }
        return true;
    }

    private static void style(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (int i = 0; i < plot.getSeriesCount(); i++) {
            plot.getRenderer().setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
    }

    private void chart(String file, JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(file, png.toByteArray());
    }

    private void write(String file, byte[] bytes) {
        Path p = new Path(dir, file);
        try {
            FileSystem fs = HadoopFiles.fs(p, ctx.hadoop());
            HadoopFiles.write(fs, p, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Writing " + p, e);
        }
        written.add(file);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
