package io.compactml.common.monitor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.quant.FloatHistogram;
import org.junit.jupiter.api.Test;

/** Drift statistics against hand-worked values (and SciPy's jensenshannon for the JS distance). */
class DriftTest {
    @Test
    void psiOfAHandWorkedShift() {
        assertEquals(0.0, Drift.psi(new double[] {50, 50}, new double[] {5, 5}), 1e-12, "same proportions");
        // (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5) = 0.235115 + 0.643775
        assertEquals(0.878890, Drift.psi(new double[] {50, 50}, new double[] {90, 10}), 1e-6);
        // an empty reference bin counts as 1e-4: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5 / 1)
        double expected = (0.5 - 1e-4) * Math.log(0.5 / 1e-4) + (0.5 - 1) * Math.log(0.5);
        assertEquals(expected, Drift.psi(new double[] {0, 10}, new double[] {5, 5}), 1e-9);
        assertEquals(4.60432, expected, 1e-5);
    }

    @Test
    void jensenShannonDistanceInBits() {
        assertEquals(0.0, Drift.jsDistance(new double[] {1, 3}, new double[] {2, 6}), 1e-12);
        assertEquals(1.0, Drift.jsDistance(new double[] {1, 0}, new double[] {0, 1}), 1e-12, "disjoint: 1 bit");
        // scipy.spatial.distance.jensenshannon([.5, .5], [1, 0], base=2) = 0.5579230...
        assertEquals(0.557923, Drift.jsDistance(new double[] {1, 1}, new double[] {1, 0}), 1e-6);
    }

    @Test
    void quantileEdgesMergeRepeatsAndCloseAboveTheMax() {
        // 4 equal bins over [0, 4], 10 values each: quartiles at 1, 2, 3
        assertArrayEquals(
                new float[] {0f, 1f, 2f, 3f, Math.nextUp(4f)}, Drift.edges(new long[] {10, 10, 10, 10}, 0f, 4f, 4));
        // a zero spike holding 90 %: every decile falls in the first bin
        assertArrayEquals(new float[] {0f, 1f, Math.nextUp(4f)}, Drift.edges(new long[] {90, 0, 0, 10}, 0f, 4f, 10));
    }

    @Test
    void referenceAndWindowCountsShareTheBins() {
        float[] edges = {0f, 1f, 2f, 3f, Math.nextUp(4f)};
        assertArrayEquals(
                new double[] {0, 10, 10, 10, 10, 0}, Drift.referenceCounts(new long[] {10, 10, 10, 10}, 0f, 4f, edges));
        FloatHistogram w = new FloatHistogram();
        w.add(new float[] {-1f, 0f, 0.5f, 1f, 2.5f, 4f, 5f});
        // below 0 | [0,1) | [1,2) | [2,3) | [3,4] | above 4
        assertArrayEquals(new double[] {1, 2, 1, 1, 1, 1}, Drift.windowCounts(w, edges));
    }

    @Test
    void saturationIsTheShareOutsideTheClipRange() {
        FloatHistogram w = new FloatHistogram();
        w.add(new float[] {-1f, 0f, 0.5f, 1f, 2.5f, 5f});
        assertEquals(0.5, Drift.saturation(w, 0f, 2f), 1e-12, "-1, 2.5 and 5 of 6 values");
        assertEquals(0.0, Drift.saturation(w, -1f, 5f), 1e-12, "the clip range's ends are inside");
        // stored: 4 bins over [0, 4] with centres 0.5, 1.5, 2.5, 3.5; clip [0, 2] leaves the last two out
        assertEquals(0.5, Drift.saturation(new long[] {10, 10, 10, 10}, 0f, 4f, 0f, 2f), 1e-12);
    }

    @Test
    void aWindowLikeTheReferenceHasNoDriftAndAShiftedOneHasMuch() {
        java.util.Random rnd = new java.util.Random(7);
        FloatHistogram ref = new FloatHistogram();
        FloatHistogram same = new FloatHistogram();
        FloatHistogram darker = new FloatHistogram();
        for (int i = 0; i < 200_000; i++) {
            ref.add(new float[] {rnd.nextFloat()});
            float v = rnd.nextFloat();
            same.add(new float[] {v});
            darker.add(new float[] {v * 0.5f});
        }
        long[] stored = ref.uniform(2048, ref.min(), ref.max());
        float[] edges = Drift.edges(stored, ref.min(), ref.max(), 10);
        double[] r = Drift.referenceCounts(stored, ref.min(), ref.max(), edges);
        double clean = Drift.psi(r, Drift.windowCounts(same, edges));
        double shifted = Drift.psi(r, Drift.windowCounts(darker, edges));
        assertTrue(clean < 0.001, "PSI of a second sample " + clean);
        // uniform [0, 0.5): half of the reference's deciles get 20 % each, the other half nothing (1e-4)
        assertTrue(shifted > 3, "PSI of a darker sample " + shifted);
    }
}
