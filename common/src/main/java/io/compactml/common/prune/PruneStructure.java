package io.compactml.common.prune;

import io.compactml.common.config.Choice;
import java.util.List;

/** What pruning removes ({@code prune.structure}). */
public enum PruneStructure implements Choice {
    /** Single weights, set to zero (a sparse model of the same shape). */
    UNSTRUCTURED,
    /**
     * Whole channels: dense neurons and convolution filters, the network rebuilt smaller (NNCF's filter pruning).
     * {@code units} is its earlier name.
     */
    CHANNELS {
        @Override
        public List<String> aliases() {
            return List.of("units");
        }
    }
}
