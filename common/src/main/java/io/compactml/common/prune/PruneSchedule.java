package io.compactml.common.prune;

import java.util.OptionalDouble;

/**
 * When unstructured pruning raises the sparsity during fine-tuning: {@code steps} steps from {@code initial} to
 * {@code target} along TFMOT's polynomial decay ({@link Pruning#scheduled}, power 3), one at the start of each of
 * the first {@code steps} fine-tuning epochs. One step is one-shot pruning at the target before the first epoch.
 *
 * @param initial sparsity of the first step, in [0, 1)
 * @param target  sparsity of the last step, in [0, 1)
 * @param steps   number of steps, at least 1
 */
public record PruneSchedule(double initial, double target, int steps) {

    /** The sparsity pruning is raised to at the start of fine-tuning epoch {@code epoch} (1-based), if any. */
    public OptionalDouble at(int epoch) {
        int step = epoch - 1;
        return step < steps
                ? OptionalDouble.of(Pruning.scheduled(initial, target, step, steps))
                : OptionalDouble.empty();
    }
}
