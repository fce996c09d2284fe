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
