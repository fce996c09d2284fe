package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The greedy per-layer bit widths on hand-made accuracies: no Spark, the evaluator is a table. */
class MixedPrecisionTest {
    private static final double FLOAT = 0.90;
    private static final int F = Int8Model.FLOAT_BITS;

    /**
     * Layers of 1,000, 100 and 10 weights (layer 3 in float). Bits saved per point lost alone: (0,4) 4,000/0.1 =
     * 40,000; (1,4) 400/0.05 = 8,000; (2,2) 60/0.01 (floor) = 6,000; (2,4) 40/0.01 = 4,000; (0,2) 6,000/5 = 1,200;
     * (1,2) 600/1 = 600; (3,4) is on a float layer.
     */
    private static final List<MixedPrecision.Move> MOVES = List.of(
            new MixedPrecision.Move(0, 2, 0.85, 1000),
            new MixedPrecision.Move(0, 4, 0.899, 1000),
            new MixedPrecision.Move(1, 2, 0.89, 100),
            new MixedPrecision.Move(1, 4, 0.8995, 100),
            new MixedPrecision.Move(2, 2, 0.90, 10),
            new MixedPrecision.Move(2, 4, 0.90, 10),
            new MixedPrecision.Move(3, 4, 0.90, 10));

    /** Accuracy of the combined model by its bits. */
    private static final Map<List<Integer>, Double> COMBINED = Map.of(
            List.of(4, 8, 8, F), 0.897,
            List.of(4, 4, 8, F), 0.896,
            List.of(4, 4, 2, F), 0.894,
            List.of(4, 4, 4, F), 0.8955,
            List.of(2, 4, 4, F), 0.86,
            List.of(4, 2, 4, F), 0.88);

    @Test
    void movesRankByBitsSavedPerPointLostAlone() {
        int[] start = {8, 8, 8, F};
        List<String> order = MixedPrecision.rank(MOVES.subList(0, 6), start, FLOAT).stream()
                .map(m -> m.layer() + "@" + m.bits())
                .toList();
        assertEquals(List.of("0@4", "1@4", "2@2", "2@4", "0@2", "1@2"), order);
    }

    @Test
    void eachMoveIsKeptOnlyWhenTheCombinedModelMeetsTheBudget() {
        AccuracyBudget.Outcome<String> fallback = AccuracyBudget.apply(
                FLOAT,
                0.5,
                Set.of(3),
                new AccuracyBudget.Evaluated<>("8-bit", 0.899),
                new int[] {8, 8, 8, 8},
                List.of(0, 1, 2),
                floats -> {
                    throw new AssertionError("within the budget at 8 bits: nothing to float");
                });
        assertEquals(List.of(8, 8, 8, F), fallback.steps().get(0).layerBits());
        List<List<Integer>> asked = new ArrayList<>();
        MixedPrecision.Outcome<String> o =
                MixedPrecision.lower(FLOAT, 0.5, fallback, new int[] {8, 8, 8, F}, MOVES, bits -> {
                    List<Integer> b = Arrays.stream(bits).boxed().toList();
                    asked.add(b);
                    return new AccuracyBudget.Evaluated<>(b.toString(), COMBINED.get(b));
                });
        // (2,2) would cost 0.6 points in combination: reverted; (2,4) then fits at 0.45; 2 bits on 0 or 1 do not
        assertEquals(
                List.of(
                        List.of(4, 8, 8, F),
                        List.of(4, 4, 8, F),
                        List.of(4, 4, 2, F),
                        List.of(4, 4, 4, F),
                        List.of(2, 4, 4, F),
                        List.of(4, 2, 4, F)),
                asked);
        assertArrayEquals(new int[] {4, 4, 4, F}, o.layerBits());
        assertEquals(0.8955, o.chosen().accuracy(), 0.0);
        assertEquals(7, o.steps().size());
        AccuracyBudget.Step reverted = o.steps().get(3);
        assertEquals(List.of(4, 4, 2, F), reverted.layerBits());
        assertFalse(reverted.withinBudget());
        assertEquals(0.6, reverted.dropPoints(), 1e-9);
        assertEquals("layer 2 to 2 bits (alone: 0.00 points): reverted, over the budget", reverted.decision());
        AccuracyBudget.Step kept = o.steps().get(4);
        assertTrue(kept.withinBudget());
        assertTrue(kept.decision().endsWith(": kept"), kept.decision());
        assertEquals(List.of(3), kept.floatLayers());
    }
}
