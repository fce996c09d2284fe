package io.compactml.common.monitor;

import io.compactml.common.quant.FloatHistogram;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Drift of one tensor's values between a reference (the calibration set's stored histogram: {@code bins} uniform
 * bins over [lo, hi], as {@code calibration_stats} keeps it) and a window (the exact {@link FloatHistogram} of the
 * same tensor over new data), on the same bins: the reference's quantile bins between its min and max, plus one
 * bin below the min and one above the max, where a shifted window puts what the reference never had.
 *
 * <p>Conventions: the population stability index {@code PSI = sum (w_i - r_i) ln(w_i / r_i)} over bin
 * proportions, a proportion below {@value #EPSILON} taken as {@value #EPSILON} (the usual rule for empty bins;
 * industry reading: below 0.1 stable, 0.1-0.25 a shift, above 0.25 a significant one); the Jensen-Shannon
 * distance, the square root of the JS divergence in bits, in [0, 1] (SciPy's {@code jensenshannon} with
 * {@code base=2}).
 */
public final class Drift {
    private Drift() {}

    /** Smallest bin proportion PSI uses. */
    public static final double EPSILON = 1e-4;

    /**
     * Bin edges, ascending and distinct: {@code lo}, the reference's {@code quantiles}-quantiles (at stored bin
     * boundaries; repeated ones, as under the zero spike after a ReLU, merged) and just above {@code hi}, each at a
     * {@link FloatHistogram} bucket edge so that a window's values fall on the side of the edge their bucket does.
     *
     * @param hist the reference's counts in uniform bins over [lo, hi]
     */
    public static float[] edges(long[] hist, float lo, float hi, int quantiles) {
        TreeSet<Float> edges = new TreeSet<>();
        edges.add(FloatHistogram.bucketEdge(lo));
        long total = Arrays.stream(hist).sum();
        double width = ((double) hi - lo) / hist.length;
        long cum = 0;
        int q = 1;
        for (int b = 0; b < hist.length && q < quantiles; b++) {
            cum += hist[b];
            while (q < quantiles && cum >= Math.ceil(total * (double) q / quantiles)) {
                edges.add(FloatHistogram.bucketEdge((float) (lo + (b + 1) * width)));
                q++;
            }
        }
        edges.add(Math.nextUp(Math.max(hi, edges.last())));
        float[] out = new float[edges.size()];
        int i = 0;
        for (float e : edges) {
            out[i++] = e;
        }
        return out;
    }

    /** The reference's counts in the bins of {@code edges} (each stored bin by its centre). */
    public static double[] referenceCounts(long[] hist, float lo, float hi, float[] edges) {
        double[] out = new double[edges.length + 1];
        double width = ((double) hi - lo) / hist.length;
        for (int b = 0; b < hist.length; b++) {
            float centre = hi > lo ? (float) (lo + (b + 0.5) * width) : lo;
            out[bin(edges, centre)] += hist[b];
        }
        return out;
    }

    /** A window's counts in the bins of {@code edges}. */
    public static double[] windowCounts(FloatHistogram window, float[] edges) {
        return Arrays.stream(window.counts(edges)).asDoubleStream().toArray();
    }

    private static int bin(float[] edges, float v) {
        int i = Arrays.binarySearch(edges, v);
        return i >= 0 ? i + 1 : -i - 1;
    }

    /** PSI of {@code window} against {@code reference} (counts in the same bins); 0 for an empty side. */
    public static double psi(double[] reference, double[] window) {
        double r = sum(reference);
        double w = sum(window);
        if (r == 0 || w == 0) {
            return 0;
        }
        double psi = 0;
        for (int i = 0; i < reference.length; i++) {
            double pr = Math.max(reference[i] / r, EPSILON);
            double pw = Math.max(window[i] / w, EPSILON);
            psi += (pw - pr) * Math.log(pw / pr);
        }
        return psi;
    }

    /** Jensen-Shannon distance (base 2) of the two count vectors' distributions, in [0, 1]. */
    public static double jsDistance(double[] reference, double[] window) {
        double r = sum(reference);
        double w = sum(window);
        if (r == 0 || w == 0) {
            return 0;
        }
        double js = 0;
        for (int i = 0; i < reference.length; i++) {
            double p = reference[i] / r;
            double q = window[i] / w;
            double m = (p + q) / 2;
            js += (p > 0 ? p * Math.log(p / m) : 0) + (q > 0 ? q * Math.log(q / m) : 0);
        }
        return Math.sqrt(Math.max(0, js / 2 / Math.log(2)));
    }

    /**
     * Share of a window's finite values outside the clip range [clipMin, clipMax]: the values int8 saturates (at
     * bucket resolution).
     */
    public static double saturation(FloatHistogram window, float clipMin, float clipMax) {
        return 1 - window.share(clipMin, clipMax);
    }

    /** The same share for the reference's stored histogram (each stored bin by its centre). */
    public static double saturation(long[] hist, float lo, float hi, float clipMin, float clipMax) {
        double[] c = referenceCounts(hist, lo, hi, new float[] {clipMin, Math.nextUp(clipMax)});
        double total = sum(c);
        return total == 0 ? 0 : (c[0] + c[2]) / total;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
