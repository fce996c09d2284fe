package io.compactml.jobs.monitor;

import io.compactml.common.Errors;
import io.compactml.common.data.Task;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.monitor.Drift;
import io.compactml.common.monitor.MonitorSettings;
import io.compactml.common.monitor.WindowStatistics;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.jobs.tables.CalibrationStatsRow;
import io.compactml.jobs.tables.DriftRow;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A window's statistics against a {@link Reference}, as {@code drift} rows: per activation tensor {@code psi},
 * {@code js_distance} and {@code saturation_rate}; then, under the tensor {@code predictions}, {@code
 * prediction_psi} and (with labels) {@code accuracy} (see {@link #accuracyThreshold}). The softmax output of a classifier gets no saturation row:
 * its int8 parameters are fixed (scale 1/256) and a probability above 255/256 is a confident prediction, not a
 * clipped one.
 */
final class DriftComparison {
    private final String runId;
    private final MonitorJob.Served served;
    private final Reference ref;
    private final MonitorSettings s;
    private final String window;
    private final Timestamp now = Timestamp.from(Instant.now());

    DriftComparison(String runId, MonitorJob.Served served, Reference ref, MonitorSettings s, String window) {
        this.runId = runId;
        this.served = served;
        this.ref = ref;
        this.s = s;
        this.window = window;
    }

    List<DriftRow> rows(WindowStatistics w) {
        FloatHistogram[] hists = w.histograms();
        if (hists.length != ref.stats().size()) {
            throw Errors.badArguments(
                    "calibration run " + ref.run() + " has " + ref.stats().size()
                            + " tensors, the served model has " + hists.length
                            + ": set monitor.reference-run to a calibration of this model");
        }
        List<DriftRow> rows = new ArrayList<>();
        boolean softmaxOut = ModelShapes.task(served.net()) == Task.CLASSIFICATION;
        for (int t = 0; t < hists.length; t++) {
            CalibrationStatsRow c = ref.stats().get(t);
            long[] stored = c.histogram();
            float[] edges = Drift.edges(stored, c.histogramMin(), c.histogramMax(), s.quantiles());
            double[] r = Drift.referenceCounts(stored, c.histogramMin(), c.histogramMax(), edges);
            double[] x = Drift.windowCounts(hists[t], edges);
            rows.add(row(w, t, c.tensor(), "psi", Drift.psi(r, x), 0, s.psiThreshold()));
            rows.add(row(w, t, c.tensor(), "js_distance", Drift.jsDistance(r, x), 0, s.jsThreshold()));
            float[] clip = ref.clips().get(t);
            if (clip != null && !(softmaxOut && t == hists.length - 1)) {
                double calibrated = Drift.saturation(stored, c.histogramMin(), c.histogramMax(), clip[0], clip[1]);
                double now = Drift.saturation(hists[t], clip[0], clip[1]);
                rows.add(row(w, t, c.tensor(), "saturation_rate", now, calibrated, s.saturationThreshold(calibrated)));
            }
        }
        int predictions = hists.length;
        rows.add(row(
                w,
                predictions,
                "predictions",
                "prediction_psi",
                Drift.psi(doubles(ref.predictions()), doubles(w.predicted())),
                0,
                s.predictionThreshold()));
        Double recorded = served.manifest().metrics().get("accuracy");
        if (!Double.isNaN(w.accuracy()) && recorded != null) {
            double threshold = accuracyThreshold(recorded, w.accuracy(), w.labeled(), s.maxAccuracyDrop());
            rows.add(new DriftRow(
                    runId,
                    served.model(),
                    served.version(),
                    window,
                    w.rows(),
                    predictions,
                    "predictions",
                    "accuracy",
                    w.accuracy(),
                    recorded,
                    threshold,
                    w.accuracy() < threshold,
                    now));
        }
        return rows;
    }

    private DriftRow row(
            WindowStatistics w,
            int tensor,
            String name,
            String metric,
            double value,
            double reference,
            double threshold) {
        return new DriftRow(
                runId,
                served.model(),
                served.version(),
                window,
                w.rows(),
                tensor,
                name,
                metric,
                value,
                reference,
                threshold,
                value > threshold,
                now);
    }

    /**
     * The accuracy below which a window drifted: the manifest's minus {@code maxDropPoints}, minus 3 standard errors
     * of the window's accuracy (binomial, {@code sqrt(a (1 - a) / n)}), so that a small window's sampling noise
     * (1.1 points for 1,000 rows at 86 %) is not an alarm: a one-sided test at about 99.9 %.
     */
    static double accuracyThreshold(double recorded, double accuracy, long rows, double maxDropPoints) {
        double standardError = Math.sqrt(accuracy * (1 - accuracy) / Math.max(1, rows));
        return recorded - maxDropPoints / 100 - 3 * standardError;
    }

    private static double[] doubles(long[] counts) {
        return Arrays.stream(counts).asDoubleStream().toArray();
    }
}
