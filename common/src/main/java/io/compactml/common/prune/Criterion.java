package io.compactml.common.prune;

import io.compactml.common.config.Choice;

/**
 * What ranks weights for pruning ({@code importance.criteria}, {@code prune.criterion}): {@code magnitude} |w|
 * (no data), {@code taylor} |w * dL/dw| and {@code fisher} (dL/dw)^2, both averaged over minibatches of data
 * ({@link ImportanceAccumulator}).
 */
public enum Criterion implements Choice {
    MAGNITUDE,
    TAYLOR,
    FISHER;

    /** Whether the scores come from gradients over data (and so need an {@code importance} run). */
    public boolean needsData() {
        return this != MAGNITUDE;
    }
}
