package io.compactml.common.quant;

import java.io.Serializable;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Weights fake-quantized in the forward pass with the straight-through estimator, around one optimizer step: the
 * quantization-aware training of PyTorch's {@code FakeQuantize} and TFMOT (Jacob et al. 2018; Bengio et al. 2013
 * for the estimator).
 *
 * <p>{@link #quantize} keeps each layer's float weights (the master copy) and puts {@code Q(w)} in their place, so
 * that the forward and backward passes of the step run on the quantized weights; the optimizer then updates them
 * by {@code -delta}. {@link #update} gives the master the same update where it lies inside the clip range
 * ({@code |w| <= scale * qmax}: the estimator's {@code dQ/dw = 1} there, 0 outside) and puts the master back, so
 * that what parameter averaging averages across workers is float master weights.
 *
 * <p>{@code Q} is {@link WeightQuantizer}'s at {@code bits} bits: symmetric per output channel (or per tensor) with
 * the scales of the weights at the first step this object sees (held for its lifetime: one epoch on a worker), for
 * binary the sign times each channel's current {@code mean |w|} with every gradient passed (BinaryConnect). With a
 * group size, a dense layer has one scale per group of inputs of each channel, as in the int8 file.
 * Rounding here is {@link Math#rint}'s ties to even, as in the exported model.
 *
 * <p>Each of the two calls is one pass over each layer's weights, in place in the network's parameter buffer (the
 * elementwise work per minibatch is the hidden cost of QAT next to the forward and backward passes): the master copy
 * is kept in a Java array, and {@code Q(master)} is recomputed in {@link #update} rather than stored.
 */
public final class StraightThroughWeights implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int bits;
    private final boolean perChannel;
    private final int groupSize;
    private final int[] layers;
    /**
     * Per layer, the scale of each output channel (one for a per-tensor scale; group-wise in
     * {@link WeightQuantizer#scaleIndex} order); binary: of the current step.
     */
    private transient float[][] scales;

    private transient float[][] master;
    /** Per layer, its group size (0 when its scales are per channel or per tensor). */
    private transient int[] groups;

    private transient boolean pending;

    /**
     * @param bits       8, 4, 2 or 1
     * @param perChannel one scale per output channel, else per tensor
     * @param layers     the layers whose weights ("W") are quantized
     */
    public StraightThroughWeights(int bits, boolean perChannel, int[] layers) {
        this(bits, perChannel, 0, layers);
    }

    /**
     * @param groupSize inputs per scale of a dense layer's output channel ({@code quantize.weight-group-size}); 0:
     *     per channel
     * @throws IllegalArgumentException for another bit width
     */
    public StraightThroughWeights(int bits, boolean perChannel, int groupSize, int[] layers) {
        if (!WeightQuantizer.BITS.contains(bits)) {
            throw new IllegalArgumentException("weight bits " + bits + "; supported: " + WeightQuantizer.BITS);
        }
        this.bits = bits;
        this.perChannel = perChannel;
        this.groupSize = groupSize;
        this.layers = layers.clone();
    }

    /** Before a step: the master weights kept, {@code Q(w)} in their place. */
    public void quantize(MultiLayerNetwork net) {
        if (master == null) {
            master = new float[layers.length][];
            scales = new float[layers.length][];
            groups = new int[layers.length];
        }
        for (int t = 0; t < layers.length; t++) {
            INDArray w = weights(net, t);
            Channels ch = Channels.of(w);
            if (master[t] == null) {
                master[t] = new float[ch.channels * ch.perChannel];
                groups[t] = WeightQuantizer.grouped(w.shape(), groupSize) ? groupSize : 0;
                if (bits > 1) {
                    // the scales of the weights first seen, kept for this object's lifetime
                    scales[t] = WeightQuantizer.scales(WeightQuantizer.params(w, perChannel, bits, groups[t]));
                }
            }
            float[] m = master[t];
            for (int c = 0; c < ch.channels; c++) {
                for (int j = 0; j < ch.perChannel; j++) {
                    m[c * ch.perChannel + j] = ch.get(c, j);
                }
            }
            if (bits == 1) {
                scales[t] = meanMagnitudes(m, ch, groups[t]);
            }
            float[] s = scales[t];
            for (int c = 0; c < ch.channels; c++) {
                for (int j = 0; j < ch.perChannel; j++) {
                    ch.set(c, j, fakeQuantized(m[c * ch.perChannel + j], s[scale(s, ch, groups[t], c, j)]));
                }
            }
            ch.writeBack(w);
        }
        pending = true;
    }

    /** After the step: the master takes the update where it is inside the clip range, and becomes the weights again. */
    public void update(MultiLayerNetwork net) {
        if (!pending) {
            return;
        }
        for (int t = 0; t < layers.length; t++) {
            INDArray w = weights(net, t);
            Channels ch = Channels.of(w);
            float[] m = master[t];
            float[] s = scales[t];
            for (int c = 0; c < ch.channels; c++) {
                for (int j = 0; j < ch.perChannel; j++) {
                    float scale = s[scale(s, ch, groups[t], c, j)];
                    // binary passes every gradient (BinaryConnect); else only inside the clip range
                    float limit = bits == 1 ? Float.POSITIVE_INFINITY : scale * WeightQuantizer.qmax(bits);
                    int k = c * ch.perChannel + j;
                    if (Math.abs(m[k]) <= limit) {
                        // the step the optimizer took from Q(master)
                        m[k] += ch.get(c, j) - fakeQuantized(m[k], scale);
                    }
                    ch.set(c, j, m[k]);
                }
            }
            ch.writeBack(w);
        }
        pending = false;
    }

    private INDArray weights(MultiLayerNetwork net, int t) {
        return net.getLayer(layers[t]).getParam("W");
    }

    /** {@code w} as its {@code bits}-bit level times {@code scale}, in float (binary: the sign, +1 for 0). */
    private float fakeQuantized(float w, float scale) {
        if (bits == 1) {
            return w >= 0 ? scale : -scale;
        }
        int qmax = WeightQuantizer.qmax(bits);
        // float division, as the file format's quantizer
        return (float) Math.max(-qmax, Math.min(qmax, Math.rint(w / scale))) * scale;
    }

    /**
     * The index in {@code s} of the scale of element {@code j} of channel {@code c}: group {@code j / group} of it
     * ({@link WeightQuantizer#scaleIndex}'s [nIn / group, nOut] order), the channel, or the tensor's one scale.
     */
    private static int scale(float[] s, Channels ch, int group, int c, int j) {
        if (group > 0) {
            return (j / group) * ch.channels + c;
        }
        return s.length == 1 ? 0 : c;
    }

    /** Binary scales: the mean |w| of each channel, group (or the whole tensor for a per-tensor scale). */
    private float[] meanMagnitudes(float[] m, Channels ch, int group) {
        int n = group > 0 ? ch.channels * (ch.perChannel / group) : perChannel ? ch.channels : 1;
        float[] out = new float[n];
        double[] sum = new double[n];
        int[] count = new int[n];
        for (int c = 0; c < ch.channels; c++) {
            for (int j = 0; j < ch.perChannel; j++) {
                int i = scale(out, ch, group, c, j);
                sum[i] += Math.abs(m[c * ch.perChannel + j]);
                count[i]++;
            }
        }
        for (int i = 0; i < n; i++) {
            out[i] = (float) (sum[i] / count[i]);
        }
        return out;
    }

    /**
     * Element {@code j} of output channel {@code c} of a weight array, read and written in its float buffer: a dense
     * matrix [nIn, nOut] has {@code nOut} channels of {@code nIn} elements (row {@code j}, column {@code c}), a
     * convolution kernel [nOut, nIn, kH, kW] {@code nOut} filters of {@code nIn * kH * kW} in row-major order. The
     * network's own parameter buffer where its layout allows (DL4J's weights are views of one flat vector), else a
     * float copy written back by {@link #writeBack}.
     */
    private static final class Channels {
        final int channels;
        final int perChannel;
        private final FloatBuffer values;
        private final long offset;
        private final long channelStride;
        private final long elementStride;
        private final INDArray copy;

        private Channels(INDArray a, INDArray copy) {
            this.values = a.data().asNioFloat();
            this.offset = a.offset();
            this.copy = copy;
            if (a.rank() == 2) {
                channels = (int) a.size(1);
                perChannel = (int) a.size(0);
                channelStride = a.stride(1);
                elementStride = a.stride(0);
            } else {
                channels = (int) a.size(0);
                perChannel = (int) (a.length() / channels);
                channelStride = a.stride(0);
                elementStride = 1;
            }
        }

        static Channels of(INDArray w) {
            if (w.rank() != 2 && w.rank() != 4) {
                throw new IllegalArgumentException("weights of rank " + w.rank() + "; expected dense [nIn, nOut] or"
                        + " convolution [nOut, nIn, kH, kW]");
            }
            boolean direct = w.dataType() == DataType.FLOAT
                    && (w.rank() == 2
                            || (w.stride(3) == 1 && w.stride(2) == w.size(3) && w.stride(1) == w.size(2) * w.size(3)));
            if (direct) {
                return new Channels(w, null);
            }
            INDArray copy = w.castTo(DataType.FLOAT).dup('c');
            return new Channels(copy, copy);
        }

        float get(int c, int j) {
            return values.get(index(c, j));
        }

        void set(int c, int j, float v) {
            values.put(index(c, j), v);
        }

        private int index(int c, int j) {
            return (int) (offset + c * channelStride + j * elementStride);
        }

        /** The values into {@code w} when they were worked on in a copy. */
        void writeBack(INDArray w) {
            if (copy != null) {
                w.assign(copy);
            }
        }
    }
}
