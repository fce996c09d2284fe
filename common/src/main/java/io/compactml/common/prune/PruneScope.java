package io.compactml.common.prune;

import io.compactml.common.config.Choice;

/** Where unstructured pruning ranks weights ({@code prune.scope}; TFMOT and INC call it the pruning scope). */
public enum PruneScope implements Choice {
    /** One threshold over all weight tensors together. */
    GLOBAL,
    /** The same sparsity in each tensor. */
    LAYER
}
