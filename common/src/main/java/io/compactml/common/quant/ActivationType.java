package io.compactml.common.quant;

import io.compactml.common.config.Choice;

/** The integer type of quantized activations ({@code quantize.activations}), with its range. */
public enum ActivationType implements Choice {
    /** Signed, [-128, 127] (TFLite int8). */
    INT8(-128, 127),
    /** Unsigned, [0, 255]. */
    UINT8(0, 255);

    private final int qmin;
    private final int qmax;

    ActivationType(int qmin, int qmax) {
        this.qmin = qmin;
        this.qmax = qmax;
    }

    public int qmin() {
        return qmin;
    }

    public int qmax() {
        return qmax;
    }
}
