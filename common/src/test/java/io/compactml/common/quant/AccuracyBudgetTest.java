package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The budget loop on hand-made accuracies: no Spark, no network, the evaluator is a table. */
class AccuracyBudgetTest {
    private static final double FLOAT = 0.90;

    /** Accuracy by the set of float layers: each layer in float wins back what it cost. */
    private static final Map<Set<Integer>, Double> TABLE =
            Map.of(Set.of(2), 0.893, Set.of(2, 1), 0.897, Set.of(2, 1, 0), 0.899);

    @Test
    void layersRankMostSensitiveFirstAndFromTheOutputWithoutTrials() {
        assertEquals(List.of(2, 1, 0), AccuracyBudget.rank(List.of(0, 1, 2), Map.of(0, 0.89, 1, 0.85, 2, 0.80), FLOAT));
        assertEquals(
                List.of(1, 0, 2), AccuracyBudget.rank(List.of(0, 1, 2), Map.of(0, 0.89, 1, 0.80, 2, 0.895), FLOAT));
        assertEquals(List.of(2, 1, 0), AccuracyBudget.rank(List.of(0, 1, 2), Map.of(), FLOAT));
    }

    @Test
    void theMostSensitiveLayersMoveToFloatUntilTheBudgetHolds() {
        List<Set<Integer>> asked = new ArrayList<>();
        AccuracyBudget.Outcome<String> o = AccuracyBudget.apply(
                FLOAT, 0.5, Set.of(), new AccuracyBudget.Evaluated<>("all int8", 0.88), List.of(2, 1, 0), floats -> {
                    asked.add(floats);
                    return new AccuracyBudget.Evaluated<>("float " + floats, TABLE.get(floats));
                });
        // 2.0 points lost, then 0.7 with layer 2 in float, then 0.3 with 2 and 1: within 0.5, layer 0 stays int8
        assertEquals(List.of(Set.of(2), Set.of(2, 1)), asked);
        assertEquals(Set.of(1, 2), o.floatLayers());
        assertEquals(0.897, o.chosen().accuracy(), 0.0);
        assertEquals(3, o.steps().size());
        assertEquals(2.0, o.steps().get(0).dropPoints(), 1e-9);
        assertEquals(false, o.steps().get(0).withinBudget());
        assertEquals("layer 1 to float (most sensitive left)", o.steps().get(2).decision());
        assertEquals(List.of(1, 2), o.steps().get(2).floatLayers());
        assertTrue(o.steps().get(2).withinBudget());
    }

    @Test
    void withoutABudgetNothingMoves() {
        AccuracyBudget.Outcome<String> o = AccuracyBudget.apply(
                FLOAT, -1, Set.of(3), new AccuracyBudget.Evaluated<>("all int8", 0.5), List.of(2, 1, 0), floats -> {
                    throw new AssertionError("no evaluation without a budget");
                });
        assertEquals(Set.of(3), o.floatLayers());
        assertEquals(1, o.steps().size());
        assertNull(o.steps().get(0).withinBudget());
    }

    @Test
    void aBudgetNoMixMeetsIsARuntimeFailureNamingTheBest() {
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> AccuracyBudget.apply(
                        FLOAT,
                        0.0,
                        Set.of(),
                        new AccuracyBudget.Evaluated<>("all int8", 0.88),
                        List.of(2, 1, 0),
                        floats -> new AccuracyBudget.Evaluated<>("m", TABLE.get(floats))));
        assertEquals(1, e.exitCode());
        assertTrue(e.getMessage().contains("best: 0.100 points with layers [0, 1, 2] in float"), e.getMessage());
    }
}
