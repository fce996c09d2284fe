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

    private WeightQuantizer() {}

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

    /** {@code w} in c-order as int8 with {@code params} (one per output channel, or one for the tensor). */
    public static byte[] quantize(INDArray w, List<QuantParams> params) {
        float[] values = w.dup('c').data().asFloat();
        byte[] q = new byte[values.length];
        for (int k = 0; k < values.length; k++) {
            q[k] = (byte) params.get(channel(w.shape(), params.size(), k)).quantize(values[k]);
        }
        return q;
    }

    /** The float values (c-order) of int8 weights {@code q} of {@code shape} with per-channel {@code scales}. */
    public static float[] dequantize(byte[] q, long[] shape, float[] scales) {
        float[] out = new float[q.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = q[k] * scales[channel(shape, scales.length, k)];
        }
        return out;
    }

    /** The output channel of c-order position {@code k}: conv [out, in, kh, kw] k / perOut; dense [in, out] k % out. */
    public static int channel(long[] shape, int channels, int k) {
        if (channels == 1) {
            return 0;
        }
        if (shape.length == 4) {
            return (int) (k / (shape[1] * shape[2] * shape[3]));
        }
        return (int) (k % shape[1]);
    }
}
