package io.compactml.common.quant;

import io.compactml.common.config.Choice;

/** How many scales a weight tensor gets ({@code quantize.weights}); symmetric in [-127, 127] either way. */
public enum WeightGranularity implements Choice {
    /** One scale per output channel (the TFLite default). */
    PER_CHANNEL,
    /** One scale for the whole tensor. */
    PER_TENSOR;

    public boolean perChannel() {
        return this == PER_CHANNEL;
    }
}
