package io.compactml.common.quant;

import io.compactml.common.config.Choice;

/**
 * How a clip range is chosen from a tensor's {@link FloatHistogram}. Every method returns [lo, hi] with
 * {@code min <= lo <= hi <= max} of the data; {@link QuantParams#affine} then widens it to include 0.
 *
 * <ul>
 *   <li>{@code minmax}: the observed range.</li>
 *   <li>{@code percentile}: clips both tails: [q(1 - p), q(p)] with p = {@code calibrate.percentile}
 *   (default 99.99 %), at bucket resolution; for a tensor that is never negative the lower end is its min.</li>
 *   <li>{@code entropy}: TensorRT's entropy calibration: 2048 bins of nonzero |x| over [0, max |x|]; for each
 *   candidate threshold of i >= 128 bins, the reference distribution (outliers folded into the last bin)
 *   against the 128-level quantization of the unclipped bins, expanded back over the nonzero bins; the threshold with the smallest
 *   KL divergence, i * bin width, clips both signs. Two guards keep it from throwing the data away (a tensor
 *   that never comes near zero, such as offset features or a regression output around 100, otherwise has
 *   candidates whose reference is one folded spike that its quantization matches exactly, divergence 0): an
 *   empty quantized distribution scores infinite divergence, as in MXNet and ONNX Runtime; and only thresholds
 *   that keep at least {@link #BULK} of the nonzero values inside are candidates.</li>
 *   <li>{@code mse}: the threshold T (a multiple of max |x| / 2048) minimising the expected squared error of
 *   int8 quantization over the histogram of nonzero |x| (zero is exact): Δ²/12 for values inside the clip
 *   range (Δ the quantization step) plus the squared distance to the clip edge for values outside.</li>
 * </ul>
 */
public enum CalibrationMethod implements Choice {
    MINMAX,
    PERCENTILE,
    ENTROPY,
    MSE;

    public static final int BINS = 2048;
    public static final int QUANTIZED_BINS = 128;

    /**
     * The least share of a tensor's nonzero values an entropy threshold keeps inside (the median stays
     * unclipped). With k nonzero bins left inside and the rest folded into the last, the divergence tends to
     * log k, 0 for k = 1: without this floor the threshold that clips everything can score best.
     */
    public static final double BULK = 0.5;

    public static CalibrationMethod parse(String s) {
        return Choice.parse(CalibrationMethod.class, s);
    }

    /** The clip range [lo, hi] for {@code h}; {@code percentile} in (50, 100] is used by PERCENTILE only. */
    public float[] clip(FloatHistogram h, double percentile) {
        if (h.count() == 0) {
            return new float[] {0f, 0f};
        }
        float min = h.min();
        float max = h.max();
        return switch (this) {
            case MINMAX -> new float[] {min, max};
            case PERCENTILE -> {
                double p = percentile / 100.0;
                float lo = min < 0 ? Math.min(0f, h.quantile(1 - p)) : min;
                float hi = max > 0 ? Math.max(0f, h.quantile(p)) : max;
                yield new float[] {Math.max(min, lo), Math.min(max, Math.max(lo, hi))};
            }
            case ENTROPY -> symmetricClip(h, entropyThreshold(h.uniformAbs(BINS, h.maxAbs()), h.maxAbs()));
            case MSE -> symmetricClip(h, mseThreshold(h.uniformAbs(BINS, h.maxAbs()), h.maxAbs(), min < 0));
        };
    }

    /** [-t, t] cut to the data's range; a tensor lying wholly above t (softmax outputs) clips to [t, t]. */
    private static float[] symmetricClip(FloatHistogram h, float t) {
        float hi = Math.min(h.max(), t);
        float lo = Math.min(Math.max(h.min(), -t), hi);
        return new float[] {lo, hi};
    }

    /** TensorRT entropy calibration over a histogram of |x| with {@code hist.length} bins over [0, maxAbs]. */
    static float entropyThreshold(double[] hist, float maxAbs) {
        int n = hist.length;
        double width = maxAbs / (double) n;
        double best = Double.POSITIVE_INFINITY;
        int bestI = n;
        double[] p = new double[n];
        double[] q = new double[n];
        double total = 0;
        for (double c : hist) {
            total += c;
        }
        for (int i = QUANTIZED_BINS; i <= n; i++) {
            double outliers = 0;
            for (int k = i; k < n; k++) {
                outliers += hist[k];
            }
            if (outliers > (1 - BULK) * total) {
                continue;
            }
            System.arraycopy(hist, 0, p, 0, i);
            p[i - 1] += outliers;
            java.util.Arrays.fill(q, 0, i, 0.0);
            for (int j = 0; j < QUANTIZED_BINS; j++) {
                int start = (int) ((long) j * i / QUANTIZED_BINS);
                int stop = (int) ((long) (j + 1) * i / QUANTIZED_BINS);
                // Q is built from the bins as they are, without the folded outliers: that is what makes
                // clipping cost divergence
                double sum = 0;
                int nonzero = 0;
                for (int k = start; k < stop; k++) {
                    sum += hist[k];
                    if (p[k] != 0) {
                        nonzero++;
                    }
                }
                for (int k = start; k < stop; k++) {
                    q[k] = p[k] != 0 ? sum / nonzero : 0;
                }
            }
            double kl = kl(p, q, i);
            // ties go to the larger threshold (less clipping), as pytorch-quantization's last argmin
            if (kl <= best) {
                best = kl;
                bestI = i;
            }
        }
        return (float) (bestI * width);
    }

    private static double kl(double[] p, double[] q, int n) {
        double sp = 0;
        double sq = 0;
        for (int k = 0; k < n; k++) {
            sp += p[k];
            sq += q[k];
        }
        if (sp == 0) {
            return 0;
        }
        if (sq == 0) {
            // nothing inside the threshold to quantize: the worst candidate (MXNet, ONNX Runtime)
            return Double.POSITIVE_INFINITY;
        }
        double d = 0;
        for (int k = 0; k < n; k++) {
            if (p[k] > 0) {
                double pk = p[k] / sp;
                double qk = Math.max(q[k] / sq, 1e-12);
                d += pk * Math.log(pk / qk);
            }
        }
        return d;
    }

    /** The clip threshold minimising the expected int8 error; 255 steps over [0, T] or [-T, T]. */
    static float mseThreshold(double[] hist, float maxAbs, boolean signed) {
        int n = hist.length;
        double width = maxAbs / (double) n;
        double best = Double.POSITIVE_INFINITY;
        int bestI = n;
        for (int i = 1; i <= n; i++) {
            double t = i * width;
            double step = (signed ? 2 * t : t) / 255.0;
            double inside = 0;
            double clipped = 0;
            for (int k = 0; k < n; k++) {
                double center = (k + 0.5) * width;
                if (center <= t) {
                    inside += hist[k];
                } else {
                    double over = center - t;
                    clipped += hist[k] * over * over;
                }
            }
            double err = inside * step * step / 12.0 + clipped;
            if (err < best) {
                best = err;
                bestI = i;
            }
        }
        return (float) (bestI * width);
    }
}
