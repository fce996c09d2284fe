package io.compactml.common.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PruneSelectionTest {

    @Test
    void prunesExactlyTheRequestedCountEvenWhenTheThresholdIsATie() {
        // 10 weights, 50 %: 5 pruned; four weights tie at the threshold 0.3, so a threshold rule would prune 2 or 6
        float[] s = {0.9f, 0.3f, 0.1f, 0.3f, 0.3f, 0.2f, 0.8f, 0.3f, 0.7f, 0.6f};
        boolean[] m = PruneSelection.mask(s, 0.5);
        // pruned: 0.1 (2), 0.2 (5), then the first three of the tied 0.3s by position (1, 3, 4), not 7
        assertArrayEquals(new boolean[] {true, false, false, false, false, false, true, true, true, true}, m);
    }

    @Test
    void roundsTheCountHalfUp() {
        assertEquals(0, PruneSelection.prunedCount(3, 0.1));
        assertEquals(1, PruneSelection.prunedCount(5, 0.1));
        assertEquals(2, PruneSelection.prunedCount(3, 0.5));
        assertEquals(900, PruneSelection.prunedCount(1000, 0.9));
        assertThrows(IllegalArgumentException.class, () -> PruneSelection.prunedCount(10, 1.0));
        assertThrows(IllegalArgumentException.class, () -> PruneSelection.prunedCount(10, -0.1));
    }

    @Test
    void globalSelectionRanksAcrossTensorsAndSkipsEmptyOnes() {
        float[][] s = {{5f, 1f}, {}, {2f, 6f, 0f}, {3f}};
        boolean[][] m = PruneSelection.masks(s, 0.5);
        // 6 weights, 3 pruned: 0 (tensor 2), 1 (tensor 0), 2 (tensor 2)
        assertArrayEquals(new boolean[] {true, false}, m[0]);
        assertEquals(0, m[1].length);
        assertArrayEquals(new boolean[] {false, true, false}, m[2]);
        assertArrayEquals(new boolean[] {true}, m[3]);
    }

    @Test
    void aTensorIsNeverPrunedWhole() {
        // C06: the 8 weights of a 4-to-2 output layer at 95 % layer sparsity: round(7.6) = 8 would take them all
        float[] out = {0.4f, 0.1f, 0.8f, 0.3f, 0.2f, 0.7f, 0.6f, 0.5f};
        assertArrayEquals(
                new boolean[] {false, false, true, false, false, false, false, false}, PruneSelection.mask(out, 0.95));
        assertArrayEquals(new boolean[] {true}, PruneSelection.mask(new float[] {0f}, 0.9));
        // global: 6 weights at 50 % = 3; 0.1 goes, 0.2 would empty its tensor and stays, 5 and 6 go instead
        boolean[][] m = PruneSelection.masks(new float[][] {{0.1f, 0.2f}, {5f, 6f, 7f, 8f}}, 0.5);
        assertArrayEquals(new boolean[] {false, true}, m[0]);
        assertArrayEquals(new boolean[] {false, false, true, true}, m[1]);
        // a one-weight tensor with the lowest score is passed over
        boolean[][] one = PruneSelection.masks(new float[][] {{0f}, {1f, 2f, 3f}}, 0.5);
        assertArrayEquals(new boolean[] {true}, one[0]);
        assertArrayEquals(new boolean[] {false, false, true}, one[1]);
    }

    @Test
    void refusesScoresThatCannotBeRanked() {
        assertThrows(IllegalArgumentException.class, () -> PruneSelection.mask(new float[] {1f, Float.NaN}, 0.5));
        assertThrows(IllegalArgumentException.class, () -> PruneSelection.mask(new float[] {-1f}, 0.5));
    }
}
