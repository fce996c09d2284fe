package io.compactml.common.quant;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Symmetric int8 weights in [-127, 127], zero point 0 (TFLite): one scale per output channel (the default) or
 * per tensor. The output channel is the last axis of a dense weight matrix (DL4J: [nIn, nOut]) and the first
 * axis of a convolution kernel (DL4J: [nOut, nIn, kH, kW]).
 */
public final class WeightQuantizer {
    public static final int QMIN = -127;
    public static final int QMAX = 127;

    private WeightQuantizer() {
    }

    /** Parameters for each output channel of {@code w}, or a single entry when {@code perChannel} is false. */
    public static List<QuantParams> params(INDArray w, boolean perChannel) {
        List<QuantParams> out = new ArrayList<>();
        if (!perChannel) {
            out.add(QuantParams.symmetric(w.amaxNumber().floatValue(), QMIN, QMAX));
            return out;
        }
        boolean conv = w.rank() == 4;
        long channels = conv ? w.size(0) : w.size(1);
        INDArray maxAbs = conv ? w.reshape(channels, -1).amax(1) : w.amax(0);
        for (long c = 0; c < channels; c++) {
            out.add(QuantParams.symmetric(maxAbs.getFloat(c), QMIN, QMAX));
        }
        return out;
    }
}
