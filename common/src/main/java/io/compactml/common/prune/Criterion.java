package io.compactml.common.prune;

import io.compactml.common.config.Choice;
import java.util.Arrays;
import java.util.List;

/**
 * What ranks weights or channels for pruning ({@code importance.criteria}, {@code prune.criterion}):
 * {@code magnitude} |w| (no data), {@code taylor} |w * dL/dw| and {@code fisher} (dL/dw)^2, both averaged over
 * minibatches of data ({@link ImportanceAccumulator}), and {@code entropy}, the Shannon entropy of each channel's
 * activation over the data ({@link ChannelEntropy}; Luo and Wu 2017), which scores whole channels and so ranks
 * only for structured pruning.
 */
public enum Criterion implements Choice {
    MAGNITUDE,
    TAYLOR,
    FISHER,
    ENTROPY;

    /** Whether the scores come from a pass over data (and so need an {@code importance} run). */
    public boolean needsData() {
        return this != MAGNITUDE;
    }

    /** Whether the pass over data is a backward one (it needs labels). */
    public boolean needsGradients() {
        return this == TAYLOR || this == FISHER;
    }

    /** Whether the criterion scores whole channels (one score per output channel) rather than single weights. */
    public boolean scoresChannels() {
        return this == ENTROPY;
    }

    /** The ids of the criteria that score single weights (those unstructured pruning takes). */
    public static List<String> weightIds() {
        return Arrays.stream(values())
                .filter(c -> !c.scoresChannels())
                .map(Criterion::id)
                .toList();
    }
}
