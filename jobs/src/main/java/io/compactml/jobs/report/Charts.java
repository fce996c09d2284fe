package io.compactml.jobs.report;

import io.compactml.jobs.tables.CalibrationStatsRow;
import io.compactml.jobs.tables.CandidateRow;
import io.compactml.jobs.tables.QuantParamRow;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.awt.geom.Ellipse2D;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's charts, each built from the rows it shows (JFreeChart), in one style. */
final class Charts {
    static final Color[] PALETTE = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd),
        new Color(0x8c564b),
        new Color(0xe377c2),
        new Color(0x7f7f7f)
    };
    private static final Font LABEL = new Font("DejaVu Sans", Font.PLAIN, 10);

    private Charts() {}

    /** Accuracy (or MSE, for regression) against size (MB, log scale) of every candidate: the Pareto front dashed, the chosen one circled. */
    static JFreeChart candidates(String run, List<CandidateRow> rows) {
        XYSeries all = new XYSeries("candidate");
        XYSeries front = new XYSeries("Pareto front");
        XYSeries chosen = new XYSeries("chosen");
        XYSeries source = new XYSeries("source");
        source.add(rows.get(0).sourceSizeBytes() / 1e6, rows.get(0).sourceQuality());
        for (CandidateRow r : rows) {
            double mb = r.sizeBytes() / 1e6;
            all.add(mb, r.quality());
            if (r.paretoOptimal()) {
                front.add(mb, r.quality());
            }
            if (r.chosen()) {
                chosen.add(mb, r.quality());
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (XYSeries s : List.of(all, front, chosen, source)) {
            data.addSeries(s);
        }
        LogAxis x = new LogAxis("artifact size (MB, log scale)");
        x.setSmallestValue(1e-3);
        x.setNumberFormatOverride(new DecimalFormat("0.###"));
        NumberAxis y = new NumberAxis(
                rows.get(0).regression()
                        ? "MSE on the evaluation set (lower is better)"
                        : "accuracy on the evaluation set");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(data, x, y, candidateRenderer());
        grid(plot);
        for (CandidateRow r : rows) {
            if (r.quality() == null) {
                continue;
            }
            XYTextAnnotation label = new XYTextAnnotation("  " + r.candidate(), r.sizeBytes() / 1e6, r.quality());
            label.setFont(LABEL);
            label.setTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addAnnotation(label);
        }
        return new JFreeChart("Candidates of run " + run, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    }

    private static XYLineAndShapeRenderer candidateRenderer() {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesLinesVisible(0, false);
        renderer.setSeriesLinesVisible(1, true);
        renderer.setSeriesShapesVisible(1, false);
        renderer.setSeriesStroke(
                1, new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f));
        renderer.setSeriesLinesVisible(2, false);
        renderer.setSeriesShape(2, new Ellipse2D.Double(-9, -9, 18, 18));
        renderer.setSeriesShapesFilled(2, false);
        renderer.setSeriesStroke(2, new BasicStroke(2.5f));
        renderer.setSeriesLinesVisible(3, false);
        renderer.setSeriesShape(3, new Rectangle(-5, -5, 10, 10));
        Color[] colors = {PALETTE[0], Color.GRAY, PALETTE[3], Color.BLACK};
        for (int i = 0; i < colors.length; i++) {
            renderer.setSeriesPaint(i, colors[i]);
        }
        return renderer;
    }

    /** Validation accuracy per epoch, one line per model trained. */
    static JFreeChart trainingCurves(Map<String, XYSeries> series) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart(
                "Validation accuracy per epoch",
                "epoch",
                "validation accuracy",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        chart.getXYPlot().setRenderer(new XYLineAndShapeRenderer(true, true));
        style(chart.getXYPlot());
        return chart;
    }

    /** PSI per tensor over monitor runs (log scale), the alarm threshold dashed. */
    static JFreeChart driftOverTime(
            String model, Map<String, org.jfree.data.time.TimeSeries> series, double threshold) {
        org.jfree.data.time.TimeSeriesCollection data = new org.jfree.data.time.TimeSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createTimeSeriesChart(
                model + ": PSI per tensor against the calibration statistics",
                "monitor run",
                "PSI",
                data,
                true,
                false,
                false);
        XYPlot plot = chart.getXYPlot();
        LogAxis psi = new LogAxis("PSI (log scale)");
        psi.setSmallestValue(1e-6);
        plot.setRangeAxis(psi);
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        ValueMarker alarm = new ValueMarker(threshold);
        alarm.setPaint(Color.GRAY);
        alarm.setStroke(
                new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
        plot.addRangeMarker(alarm);
        style(plot);
        return chart;
    }

    /** Accuracy lost with only one layer in int8, per layer, one series per model. */
    static JFreeChart sensitivity(DefaultCategoryDataset data) {
        JFreeChart chart = ChartFactory.createBarChart(
                "Accuracy lost with only this layer in int8",
                "layer",
                "accuracy drop (points)",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer bars = (BarRenderer) plot.getRenderer();
        bars.setBarPainter(new StandardBarPainter());
        for (int i = 0; i < data.getRowCount(); i++) {
            bars.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        return chart;
    }

    /** One tensor's histogram on a log scale, a dashed pair of lines per method at the range it keeps. */
    static JFreeChart activation(CalibrationStatsRow s, List<QuantParamRow> clips) {
        long[] counts = s.histogram();
        double lo = s.histogramMin();
        double width = (s.histogramMax() - lo) / counts.length;
        XYSeries hist = new XYSeries("count");
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                hist.add(lo + (i + 0.5) * width, counts[i]);
            }
        }
        LogAxis y = new LogAxis("count (log scale)");
        y.setSmallestValue(1);
        y.setTickUnit(new NumberTickUnit(1));
        y.setNumberFormatOverride(new DecimalFormat("#,##0"));
        NumberAxis x = new NumberAxis("activation value");
        x.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer line = new XYLineAndShapeRenderer(true, false);
        line.setSeriesPaint(0, PALETTE[0]);
        XYPlot plot = new XYPlot(new XYSeriesCollection(hist), x, y, line);
        style(plot);
        for (int m = 0; m < clips.size(); m++) {
            QuantParamRow q = clips.get(m);
            Color c = PALETTE[(m + 1) % PALETTE.length];
            plot.addDomainMarker(clipMarker(q.clipMin(), c));
            ValueMarker hi = clipMarker(q.clipMax(), c);
            hi.setLabel(q.method());
            hi.setLabelFont(LABEL);
            hi.setLabelAnchor(RectangleAnchor.TOP_LEFT);
            hi.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
            hi.setLabelOffset(new RectangleInsets(4 + 12 * (m + 1), 2, 2, 2));
            plot.addDomainMarker(hi);
        }
        return new JFreeChart(
                "Tensor " + s.tensorIndex() + ": " + s.tensor(), JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    }

    private static ValueMarker clipMarker(float at, Color c) {
        return new ValueMarker(
                at,
                c,
                new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {5f, 3f}, 0f));
    }

    /** The distribution of log10 importance scores, one series per layer. */
    static JFreeChart importance(String title, HistogramDataset data, boolean channels) {
        JFreeChart chart = ChartFactory.createHistogram(
                "Importance scores: " + title,
                channels ? "activation entropy (bits)" : "log10(score)",
                channels ? "fraction of the layer's channels" : "fraction of the layer's weights",
                data,
                PlotOrientation.VERTICAL,
                true,
                false,
                false);
        XYPlot plot = chart.getXYPlot();
        style(plot);
        plot.setForegroundAlpha(0.6f);
        ((XYBarRenderer) plot.getRenderer()).setBarPainter(new StandardXYBarPainter());
        return chart;
    }

    private static void grid(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }

    private static void style(XYPlot plot) {
        grid(plot);
        for (int i = 0; i < plot.getSeriesCount(); i++) {
            plot.getRenderer().setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
    }
}
