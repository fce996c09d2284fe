package io.compactml.common.quant;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Symmetric int8 weights in [-127, 127], zero point 0 (TFLite): one scale per output channel (the default) or
 * per tensor. The output channel is the last axis of a dense weight matrix (DL4J: [nIn, nOut]) and the first
 * axis of a convolution kernel (DL4J: [nOut, nIn, kH, kW]).
 *
 * <p>Low-bit weights ({@link #params(INDArray, boolean, int)}): for {@code b} = 4 or 2 bits, values in
 * [-(2^(b-1)-1), 2^(b-1)-1] ([-7, 7], [-1, 1]), ties to even; the scale of each channel is the one of 40 clipping
 * ratios {@code r * max|w|}, r from 1 down to 0.025, that minimizes the channel's squared quantization error (the
 * MSE observer of PyTorch's and NNCF's low-bit quantizers: with few levels, clipping the largest weights costs less
 * than coarse steps for all others). For {@code b} = 1 (binary, BinaryConnect / XNOR-Net): {@code q = sign(w)} in
 * {-1, +1} (+1 for 0) and scale {@code mean |w|} per channel, the scale that minimizes the squared error of
 * {@code scale * sign(w)} (Rastegari et al. 2016).
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
        return quantize(w, params, 8);
    }

    /**
     * {@code w} in c-order as {@code bits}-bit values, one a byte, with {@code params} (one per output channel, or
     * one for the tensor): each rounded to its grid, or for binary ({@code bits} 1) its sign, +1 for 0.
     */
    public static byte[] quantize(INDArray w, List<QuantParams> params, int bits) {
        return quantize(w, params, bits, 0);
    }

    /** As {@link #quantize(INDArray, List, int)} with the group-wise {@code params} of {@code groupSize}. */
    public static byte[] quantize(INDArray w, List<QuantParams> params, int bits, int groupSize) {
        float[] values = w.dup('c').data().asFloat();
        byte[] q = new byte[values.length];
        for (int k = 0; k < values.length; k++) {
            q[k] = bits == 1
                    ? (byte) (values[k] >= 0 ? 1 : -1)
                    : (byte) params.get(scaleIndex(w.shape(), params.size(), groupSize, k))
                            .quantize(values[k]);
        }
        return q;
    }

    /** The scale of each entry of {@code params}, in order: [channels], or [1] per tensor. */
    public static float[] scales(List<QuantParams> params) {
        float[] scales = new float[params.size()];
        for (int c = 0; c < scales.length; c++) {
            scales[c] = params.get(c).scale();
        }
        return scales;
    }

    /** The bit widths weights can have: 8, 4, 2 and 1 (binary). */
    public static final List<Integer> BITS = List.of(8, 4, 2, 1);

    /** The largest level of {@code bits}-bit symmetric weights: 127, 7, 1; 1 for binary ({-1, +1}). */
    public static int qmax(int bits) {
        return bits == 1 ? 1 : (1 << (bits - 1)) - 1;
    }

    /**
     * Parameters of {@code bits}-bit weights for each output channel of {@code w} (one entry when {@code perChannel}
     * is false): 8 bits as {@link #params(INDArray, boolean)}; 4 and 2 bits with the clipping that minimizes the
     * squared error; binary with scale {@code mean |w|} (levels {-1, +1}: quantize with
     * {@link #quantize(INDArray, List, int)}).
     *
     * @throws IllegalArgumentException for another bit width
     */
    public static List<QuantParams> params(INDArray w, boolean perChannel, int bits) {
        return params(w, perChannel, bits, 0);
    }

    /**
     * As {@link #params(INDArray, boolean, int)}, with one scale per group of {@code groupSize} consecutive inputs of
     * each output channel of a dense matrix [nIn, nOut] (rows {@code g * groupSize} to {@code (g + 1) * groupSize -
     * 1} of column {@code c}; the layout of GPTQ's and AWQ's group-wise scales), in the order of {@link #scaleIndex}:
     * [nIn / groupSize, nOut] in c-order, the scale shape of ONNX's blocked {@code DequantizeLinear} on axis 0. Each
     * group gets the scale its bit width's rule gives a channel. {@code groupSize} 0: per channel (or tensor).
     * Convolution kernels are not grouped (one scale per filter).
     *
     * @throws IllegalArgumentException for another bit width, or a dense {@code groupSize} that does not divide nIn
     */
    public static List<QuantParams> params(INDArray w, boolean perChannel, int bits, int groupSize) {
        if (!BITS.contains(bits)) {
            throw new IllegalArgumentException("weight bits " + bits + "; supported: " + BITS);
        }
        boolean grouped = grouped(w.shape(), groupSize);
        if (grouped && w.size(0) % groupSize != 0) {
            throw new IllegalArgumentException(
                    "group size " + groupSize + " does not divide the " + w.size(0) + " inputs of the weights");
        }
        if (bits == 8 && !grouped) {
            return params(w, perChannel);
        }
        float[][] channels = grouped ? groups(w, groupSize) : channels(w, perChannel);
        List<QuantParams> out = new ArrayList<>(channels.length);
        for (float[] c : channels) {
            out.add(
                    bits == 1
                            ? binary(c)
                            : bits == 8 ? QuantParams.symmetric(maxAbs(c), QMIN, QMAX) : clipped(c, qmax(bits)));
        }
        return out;
    }

    /** Whether weights of {@code shape} get group-wise scales: dense weights, a positive group size. */
    public static boolean grouped(long[] shape, int groupSize) {
        return groupSize > 0 && shape.length == 2;
    }

    /** The values of each (group, output channel) of dense {@code w} [nIn, nOut], in {@link #scaleIndex} order. */
    private static float[][] groups(INDArray w, int groupSize) {
        float[] values = w.dup('c').data().asFloat();
        int nOut = (int) w.size(1);
        int groups = (int) (w.size(0) / groupSize);
        float[][] out = new float[groups * nOut][groupSize];
        for (int k = 0; k < values.length; k++) {
            int row = k / nOut;
            out[(row / groupSize) * nOut + k % nOut][row % groupSize] = values[k];
        }
        return out;
    }

    private static float maxAbs(float[] c) {
        float m = 0;
        for (float v : c) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static QuantParams binary(float[] c) {
        double sum = 0;
        for (float v : c) {
            sum += Math.abs(v);
        }
        float alpha = (float) (sum / c.length);
        return new QuantParams(alpha > 0 ? alpha : QuantParams.EPS, 0, -1, 1);
    }

    private static final int CLIP_STEPS = 40;

    private static QuantParams clipped(float[] c, int qmax) {
        float maxAbs = maxAbs(c);
        QuantParams best = QuantParams.symmetric(maxAbs, -qmax, qmax);
        double bestError = error(c, best);
        for (int step = 1; step < CLIP_STEPS; step++) {
            QuantParams p = QuantParams.symmetric(maxAbs * (CLIP_STEPS - step) / CLIP_STEPS, -qmax, qmax);
            double e = error(c, p);
            if (e < bestError) {
                best = p;
                bestError = e;
            }
        }
        return best;
    }

    private static double error(float[] c, QuantParams p) {
        double e = 0;
        for (float v : c) {
            double d = v - p.dequantize(p.quantize(v));
            e += d * d;
        }
        return e;
    }

    /** The values of each output channel of {@code w} (one array for the whole tensor without {@code perChannel}). */
    private static float[][] channels(INDArray w, boolean perChannel) {
        float[] values = w.dup('c').data().asFloat();
        if (!perChannel) {
            return new float[][] {values};
        }
        boolean conv = w.rank() == 4;
        int n = (int) (conv ? w.size(0) : w.size(1));
        float[][] out = new float[n][values.length / n];
        int[] filled = new int[n];
        for (int k = 0; k < values.length; k++) {
            int c = channel(w.shape(), n, k);
            out[c][filled[c]++] = values[k];
        }
        return out;
    }

    /**
     * {@code q} (values of {@code bits} bits, one a byte) packed {@code 8 / bits} to a byte: value {@code k} in byte
     * {@code k / (8 / bits)} at bit {@code (k % (8 / bits)) * bits}, lowest bits first, as {@code bits}-bit two's
     * complement (binary: bit 1 for +1, 0 for -1). 8 bits: {@code q} itself.
     */
    public static byte[] pack(byte[] q, int bits) {
        if (bits == 8) {
            return q;
        }
        int per = 8 / bits;
        int mask = (1 << bits) - 1;
        byte[] out = new byte[(q.length + per - 1) / per];
        for (int k = 0; k < q.length; k++) {
            int code = bits == 1 ? (q[k] > 0 ? 1 : 0) : q[k] & mask;
            out[k / per] |= (byte) (code << ((k % per) * bits));
        }
        return out;
    }

    /** The {@code n} values {@link #pack} packed, one a byte. */
    public static byte[] unpack(byte[] packed, int bits, int n) {
        if (bits == 8) {
            return packed;
        }
        int per = 8 / bits;
        int mask = (1 << bits) - 1;
        byte[] out = new byte[n];
        for (int k = 0; k < n; k++) {
            int code = (packed[k / per] >> ((k % per) * bits)) & mask;
            out[k] = (byte) (bits == 1 ? (code == 1 ? 1 : -1) : (code << (32 - bits)) >> (32 - bits));
        }
        return out;
    }

    /** The float values (c-order) of int8 weights {@code q} of {@code shape} with per-channel {@code scales}. */
    public static float[] dequantize(byte[] q, long[] shape, float[] scales) {
        return dequantize(q, shape, scales, 0);
    }

    /** As {@link #dequantize(byte[], long[], float[])} with group-wise {@code scales} of {@code groupSize}. */
    public static float[] dequantize(byte[] q, long[] shape, float[] scales, int groupSize) {
        float[] out = new float[q.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = q[k] * scales[scaleIndex(shape, scales.length, groupSize, k)];
        }
        return out;
    }

    /**
     * The scale of c-order position {@code k} of weights of {@code shape} with {@code scales} scales: its output
     * channel ({@link #channel}), or for group-wise dense scales [nIn / groupSize, nOut] {@code (row / groupSize) *
     * nOut + column}.
     */
    public static int scaleIndex(long[] shape, int scales, int groupSize, int k) {
        if (grouped(shape, groupSize)) {
            long nOut = shape[1];
            return (int) ((k / nOut / groupSize) * nOut + k % nOut);
        }
        return channel(shape, scales, k);
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
