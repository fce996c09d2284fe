package io.compactml.common.quant;

import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

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
 * binary the sign times each channel's current {@code mean |w|} with every gradient passed (BinaryConnect).
 * Rounding here is {@link Math#rint}'s ties to even, as in the exported model.
 */
public final class StraightThroughWeights implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int bits;
    private final boolean perChannel;
    private final int[] layers;
    private transient INDArray[] scales;
    private transient INDArray[] master;
    private transient INDArray[] quantized;
    private transient INDArray[] inside;
    private transient boolean pending;

    /**
     * @param bits       8, 4, 2 or 1
     * @param perChannel one scale per output channel, else per tensor
     * @param layers     the layers whose weights ("W") are quantized
     */
    public StraightThroughWeights(int bits, boolean perChannel, int[] layers) {
        if (!WeightQuantizer.BITS.contains(bits)) {
            throw new IllegalArgumentException("weight bits " + bits + "; supported: " + WeightQuantizer.BITS);
        }
        this.bits = bits;
        this.perChannel = perChannel;
        this.layers = layers.clone();
    }

    /** Before a step: the master weights kept, {@code Q(w)} in their place. */
    public void quantize(MultiLayerNetwork net) {
        if (scales == null) {
            scales = new INDArray[layers.length];
            for (int t = 0; t < layers.length; t++) {
                INDArray w = weights(net, t);
                float[] s = WeightQuantizer.scales(WeightQuantizer.params(w, perChannel, bits));
                scales[t] = Nd4j.createFromArray(s).castTo(w.dataType());
            }
        }
        if (master == null) {
            master = new INDArray[layers.length];
            quantized = new INDArray[layers.length];
            inside = new INDArray[layers.length];
        }
        for (int t = 0; t < layers.length; t++) {
            INDArray w = weights(net, t);
            // the master copy in a buffer kept from step to step
            master[t] = master[t] == null ? w.dup() : master[t].assign(w);
            quantized[t] = fakeQuantized(w, t);
            inside[t] = bits > 1 ? insideClip(w, t) : null;
            w.assign(quantized[t]);
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
            // the step the optimizer took from Q(master), passed through where the master is inside the clip range
            INDArray step = w.subi(quantized[t]);
            if (inside[t] != null) {
                step.muli(inside[t]);
            }
            w.assign(master[t].addi(step));
        }
        pending = false;
    }

    private INDArray weights(MultiLayerNetwork net, int t) {
        return net.getLayer(layers[t]).getParam("W");
    }

    /**
     * {@code w} as its {@code bits}-bit levels times the scales, in float: dense [nIn, nOut] with one scale per column,
     * a convolution kernel [nOut, nIn, kH, kW] with one per filter.
     */
    INDArray fakeQuantized(INDArray w, int t) {
        INDArray rows = channelsLast(w);
        INDArray s = bits == 1 ? binaryScales(rows) : scales[t];
        INDArray q;
        if (bits == 1) {
            // sign with +1 for 0
            q = rows.gte(0).castTo(rows.dataType()).muli(2).subi(1);
        } else {
            int qmax = WeightQuantizer.qmax(bits);
            q = Transforms.min(Transforms.max(rint(divide(rows, s)), -qmax), qmax);
        }
        return fromChannelsLast(multiply(q, s), w);
    }

    private INDArray insideClip(INDArray w, int t) {
        INDArray magnitude = Transforms.abs(channelsLast(w));
        INDArray limit = scales[t].mul(WeightQuantizer.qmax(bits));
        INDArray excess = limit.length() == 1 ? magnitude.sub(limit.getDouble(0)) : magnitude.subRowVector(limit);
        return fromChannelsLast(excess.lte(0).castTo(w.dataType()), w);
    }

    /** Rounded to the nearest integer, ties to even. */
    private static INDArray rint(INDArray x) {
        return Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Rint(x, x.ulike()));
    }

    private INDArray binaryScales(INDArray rows) {
        return perChannel
                ? Transforms.abs(rows).mean(0)
                : Nd4j.scalar(rows.dataType(), Transforms.abs(rows).meanNumber());
    }

    private static INDArray divide(INDArray rows, INDArray s) {
        return s.length() == 1 ? rows.div(s.getDouble(0)) : rows.divRowVector(s);
    }

    private static INDArray multiply(INDArray rows, INDArray s) {
        return s.length() == 1 ? rows.mul(s.getDouble(0)) : rows.mulRowVector(s);
    }

    /** {@code w} as [elements per channel, channels]: a dense matrix as it is, a kernel flattened per filter. */
    private static INDArray channelsLast(INDArray w) {
        return w.rank() == 4 ? w.reshape('c', w.size(0), -1).transpose() : w;
    }

    private static INDArray fromChannelsLast(INDArray rows, INDArray like) {
        return like.rank() == 4 ? rows.transpose().dup('c').reshape('c', like.shape()) : rows;
    }
}
