package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibrationMethodTest {

    /** 200,000 standard normal values and 20 outliers at 40: a heavy right tail. */
    private static float[] heavyTailed() {
        Random rnd = new Random(3);
        float[] v = new float[200_020];
        for (int i = 0; i < 200_000; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        for (int i = 200_000; i < v.length; i++) {
            v[i] = 40f;
        }
        return v;
    }

    private static FloatHistogram of(float[] v) {
        FloatHistogram h = new FloatHistogram();
        h.add(v);
        return h;
    }

    @Test
    void countsNanAndInfinityApartFromTheRange() {
        FloatHistogram h = of(new float[] {1f, Float.NaN, -2f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        assertEquals(2, h.count());
        assertEquals(1, h.nanCount());
        assertEquals(2, h.infCount());
        assertEquals(-2f, h.min());
        assertEquals(1f, h.max());
    }

    @Test
    void quantileOfOneToHundred() {
        float[] v = new float[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i + 1;
        }
        FloatHistogram h = of(v);
        assertEquals(50f, h.quantile(0.5));
        assertEquals(100f, h.quantile(1.0));
        assertEquals(1f, h.quantile(0.001));
    }

    @Test
    void entropyAndMseClipBelowTheMaxOfAHeavyTail() {
        FloatHistogram h = of(heavyTailed());
        float[] minmax = CalibrationMethod.MINMAX.clip(h, 99.99);
        assertEquals(40f, minmax[1]);
        float[] entropy = CalibrationMethod.ENTROPY.clip(h, 99.99);
        assertTrue(entropy[1] > 3f && entropy[1] < 20f, "entropy keeps the bulk, drops the outliers: " + entropy[1]);
        assertEquals(-entropy[1], Math.max(entropy[0], -entropy[1]), 0f, "symmetric for a signed tensor");
        float[] mse = CalibrationMethod.MSE.clip(h, 99.99);
        assertEquals(40f, mse[1], 2.5f, "20 values at 40 cost more clipped than the rounding noise they add");
        float[] pct = CalibrationMethod.PERCENTILE.clip(h, 99.9);
        // the top 0.1 % of 200,020 values are the 20 outliers and 180 normal draws: z(1 - 180/200,000) = 3.12;
        // the bottom 0.1 % are 200 normal draws: z(0.001) = -3.09 (bucket resolution 0.05 %)
        assertEquals(3.12f, pct[1], 0.02f);
        assertEquals(-3.09f, pct[0], 0.02f);
    }

    @Test
    void mseClipOfALaplaceMatchesTheAnalyticOptimum() {
        // Banner et al., ACIQ (2019): for Laplace(0, b) and 8 bits the MSE-optimal clip is 9.89 b;
        // the sample max of 400,000 draws is about b ln(400,000) = 12.9 b
        Random rnd = new Random(5);
        float[] v = new float[400_000];
        for (int i = 0; i < v.length; i++) {
            double u = rnd.nextDouble();
            v[i] = (float) ((rnd.nextBoolean() ? 1 : -1) * -Math.log(1 - u));
        }
        FloatHistogram h = of(v);
        float[] mse = CalibrationMethod.MSE.clip(h, 99.99);
        assertTrue(h.maxAbs() > 11.5f, "sample max " + h.maxAbs());
        assertEquals(9.89f, mse[1], 0.6f, "mse clip");
        assertEquals(-mse[1], mse[0], 0f);
    }

    @Test
    void theZeroSpikeOfAReluDoesNotDriveTheClip() {
        // 60 % exact zeros and 40 % |N(0, 1)|, as after a ReLU: zeros are exact in int8 at any scale, so the
        // clip must follow the nonzero values (a 128-bin search dominated by the zero bin clips near 0.1)
        Random rnd = new Random(9);
        float[] v = new float[200_000];
        for (int i = 120_000; i < v.length; i++) {
            v[i] = (float) Math.abs(rnd.nextGaussian());
        }
        FloatHistogram h = of(v);
        float entropy = CalibrationMethod.ENTROPY.clip(h, 99.99)[1];
        float mse = CalibrationMethod.MSE.clip(h, 99.99)[1];
        assertTrue(entropy > 2.0f && entropy <= h.max(), "entropy " + entropy + " of max " + h.max());
        assertTrue(mse > 2.0f && mse <= h.max(), "mse " + mse + " of max " + h.max());
    }

    @Test
    void nonNegativeTensorsKeepZeroAsTheLowerEnd() {
        float[] v = heavyTailed();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        for (CalibrationMethod m : CalibrationMethod.values()) {
            float[] clip = m.clip(of(v), 99.99);
            assertTrue(clip[0] >= 0f && clip[0] < 1e-3f, m + " lower end " + clip[0]);
        }
    }

    /** {@code n} values uniform in [lo, hi). */
    private static float[] uniform(int n, float lo, float hi, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return v;
    }

    @Test
    void entropyKeepsATensorThatNeverComesNearZero() {
        // C01: features uniform in [0.5, 1]. Every threshold below 0.5 leaves nothing to quantize (infinite
        // divergence, not 0), and one just above 0.5 folds everything into one bin that its quantization
        // matches exactly (divergence 0): it clipped every input to 0.5008 and the int8 model scored 0.52
        // where minmax scored 0.93. Uniform data has no tail to clip: the threshold is the max.
        FloatHistogram h = of(uniform(100_000, 0.5f, 1.0f, 11));
        float[] entropy = CalibrationMethod.ENTROPY.clip(h, 99.99);
        assertEquals(h.min(), entropy[0], 0f);
        assertTrue(entropy[1] > 0.99f, "entropy clip [" + entropy[0] + ", " + entropy[1] + "]");
        // the same around -100 (a regression output): mirrored
        FloatHistogram neg = of(uniform(100_000, -101f, -99f, 12));
        float[] mirrored = CalibrationMethod.ENTROPY.clip(neg, 99.99);
        assertTrue(mirrored[0] < -100.9f && mirrored[1] == neg.max(), mirrored[0] + ", " + mirrored[1]);
    }

    @Test
    void anEmptyQuantizedDistributionIsTheWorstCandidateNotTheBest() {
        // 2048 bins; all mass in bins 1500..1599: thresholds of fewer than 1500 bins have nothing inside
        double[] hist = new double[CalibrationMethod.BINS];
        for (int k = 1500; k < 1600; k++) {
            hist[k] = 10;
        }
        float t = CalibrationMethod.entropyThreshold(hist, 2048f);
        assertTrue(t >= 1550f, "threshold " + t + " keeps at least half of the values");
    }

    @Test
    void everyMethodKeepsTheBulkOfOffsetOneSidedConstantAndHeavyTailedTensors() {
        float[] oneSided = new float[100_000];
        Random rnd = new Random(13);
        for (int i = 0; i < oneSided.length; i++) {
            oneSided[i] = (float) -Math.log(1 - rnd.nextDouble()); // exponential: one-sided, long tail
        }
        float[] constant = new float[1000];
        java.util.Arrays.fill(constant, 0.7f);
        float[] negConstant = new float[1000];
        java.util.Arrays.fill(negConstant, -3f);
        java.util.Map<String, float[]> tensors = new java.util.LinkedHashMap<>();
        tensors.put("offset [0.5, 1]", uniform(100_000, 0.5f, 1f, 14));
        tensors.put("offset [99, 101]", uniform(100_000, 99f, 101f, 15));
        tensors.put("one-sided exponential", oneSided);
        tensors.put("constant 0.7", constant);
        tensors.put("constant -3", negConstant);
        tensors.put("heavy-tailed", heavyTailed());
        for (var e : tensors.entrySet()) {
            FloatHistogram h = of(e.getValue());
            for (CalibrationMethod m : CalibrationMethod.values()) {
                float[] clip = m.clip(h, 99.99);
                QuantParams q = QuantParams.affine(clip[0], clip[1], -128, 127);
                double kept = h.unsaturated(q);
                String what = m + " on " + e.getKey() + " keeps " + kept + " in " + q.clipMin() + ".." + q.clipMax();
                // the heavy tail's 20 outliers (0.01 %) and the exponential's far tail may go
                assertTrue(kept >= 0.99, what);
                if (!e.getKey().equals("heavy-tailed") && !e.getKey().startsWith("one-sided")) {
                    // no tail to cut: nothing saturates by more than one quantization step
                    assertTrue(h.max() - q.clipMax() <= q.scale() && q.clipMin() - h.min() <= q.scale(), what);
                }
            }
        }
    }

    @Test
    void shareCountsTheValuesInsideARange() {
        float[] v = new float[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i - 49.5f; // -49.5 .. 49.5
        }
        FloatHistogram h = of(v);
        assertEquals(1.0, h.share(-49.5f, 49.5f));
        assertEquals(0.5, h.share(0f, 100f));
        assertEquals(0.1, h.share(-4.5f, 4.5f), 1e-12);
        assertEquals(0.0, h.share(100f, 200f));
        assertEquals(1.0, new FloatHistogram().share(0f, 0f));
    }

    @Test
    void statisticsAreBitIdenticalAcrossPartitioningsAndOrders() {
        float[] v = heavyTailed();
        List<float[]> reference = null;
        for (int parts : new int[] {1, 3, 7}) {
            List<FloatHistogram> partials = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                FloatHistogram h = new FloatHistogram();
                h.add(v, v.length * p / parts, v.length * (p + 1) / parts);
                partials.add(h);
            }
            Collections.shuffle(partials, new Random(parts));
            FloatHistogram merged = new FloatHistogram();
            partials.forEach(merged::merge);
            List<float[]> clips = new ArrayList<>();
            for (CalibrationMethod m : CalibrationMethod.values()) {
                clips.add(m.clip(merged, 99.99));
            }
            if (reference == null) {
                reference = clips;
            } else {
                for (int i = 0; i < clips.size(); i++) {
                    assertArrayEquals(
                            reference.get(i), clips.get(i), parts + " partitions, " + CalibrationMethod.values()[i]);
                }
            }
        }
    }
}
