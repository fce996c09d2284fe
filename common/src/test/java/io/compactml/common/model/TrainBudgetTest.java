package io.compactml.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainBudgetTest {
    @Test
    void stepsBecomeWholeEpochs() {
        // 3,000 rows on 2 workers in minibatches of 32: 47 per worker and epoch; 430 steps = 9.15 epochs -> 10
        TrainBudget steps = new TrainBudget(2, 430, 0, 0.1);
        assertEquals(10, steps.epochsFor(47, 1));
        assertEquals(1, new TrainBudget(2, 5, 0, 0.1).epochsFor(47, 1), "fewer steps than one epoch: one epoch");
        assertEquals(47, new TrainBudget(2, 47 * 47, 0, 0.1).epochsFor(47, 1));
        // without steps the epochs; a schedule of 4 steps needs 4 epochs
        assertEquals(2, new TrainBudget(2, 0, 0, 0.1).epochsFor(47, 1));
        assertEquals(4, new TrainBudget(2, 0, 0, 0.1).epochsFor(47, 4));
        assertEquals(4, steps.epochsFor(1_000, 4));
    }

    @Test
    void readsItsKeysAndTheDefaultsChangeNothing() {
        CompactConfig defaults = CompactConfig.load(null, List.of());
        TrainBudget prune = TrainBudget.from(defaults, "prune", "fine-tune-epochs", "fine-tune-steps");
        assertEquals(new TrainBudget(2, 0, 0, 0.1), prune);
        assertFalse(prune.earlyStopping());
        TrainBudget distill = TrainBudget.from(
                CompactConfig.load(null, List.of("distill.steps=2000", "distill.patience=3")),
                "distill",
                "epochs",
                "steps");
        assertEquals(new TrainBudget(20, 2000, 3, 0.1), distill);
        assertTrue(distill.earlyStopping());
        assertFalse(new TrainBudget(0, 0, 0, 0.1).trains());
        assertTrue(new TrainBudget(0, 100, 0, 0.1).trains());
    }
}
