package io.compactml.common.quant;

import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ParamFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An int8 model: the DL4J configuration, every weight tensor as int8 with its symmetric scales (per output
 * channel or per tensor, {@link WeightQuantizer}), biases in float32, and the activation parameters of every
 * tensor boundary ({@link ActivationObserver} numbering). Layers kept in float (mixed precision) store float32
 * weights and no activation parameters on their output.
 *
 * <p>Weights may have fewer bits ({@code quantize.weight-bits} 4, 2 or 1, {@link WeightQuantizer}); activations
 * stay 8-bit. Every weight is held one a byte in memory and runs as int8 (in a QDQ graph too: a 4-bit level is an
 * int8 value in [-7, 7]); the file packs them.
 *
 * <p>File format ({@code model.int8}): the {@link ParamFile} framing with magic {@code CMLQ}, version 1; per
 * parameter of kind 0 its float32 values, of kind 1 (int8 weights) its scales and its int8 values, of kind 2
 * (low-bit weights) its bit width (one byte: 4, 2 or 1), its scales and its values packed {@code 8 / bits} to a
 * byte ({@link WeightQuantizer#pack}), of kind 3 (group-wise scales, {@code quantize.weight-group-size}) its bit
 * width (one byte: 8, 4, 2 or 1), its group size (int32), its scales [nIn / group size, nOut] in c-order
 * ({@link WeightQuantizer#scaleIndex}) and its packed values; then the trailer, per tensor boundary: present flag,
 * scale, zero point, qmin, qmax.
 */
public final class Int8Model {
    private static final int MAGIC = 0x434D4C51;
    private static final int VERSION = 1;

    /** Layer types this quantizer knows; others must stay float. */
    public static final Set<Class<?>> SUPPORTED =
            Set.of(DenseLayer.class, OutputLayer.class, ConvolutionLayer.class, SubsamplingLayer.class);

    private static final byte FLOAT = 0;
    private static final byte INT8 = 1;
    private static final byte LOW_BIT = 2;
    private static final byte GROUPED = 3;

    /**
     * One parameter: quantized values {@code q} of {@code bits} bits with {@code scales} (group-wise when
     * {@code groupSize} > 0), or float values {@code f}.
     */
    private record Param(
            int layer, String name, long[] shape, byte[] q, float[] scales, float[] f, int bits, int groupSize) {
        static Param floats(int layer, String name, long[] shape, float[] f) {
            return new Param(layer, name, shape, null, null, f, 0, 0);
        }
    }

    private final String configJson;
    private final List<Param> params;
    private final QuantParams[] activations;

    private Int8Model(String configJson, List<Param> params, QuantParams[] activations) {
        this.configJson = configJson;
        this.params = params;
        this.activations = activations;
    }

    /**
     * Quantizes {@code net}: weights ("W") of every layer not in {@code floatLayers} to int8, and the
     * activation boundaries with {@code activations} (index = tensor number; null keeps a boundary float).
     * The output of a float layer stays float; a max-pooling output takes its input's parameters.
     *
     * @throws CompactMLException (usage) naming an unsupported layer not listed in {@code floatLayers}
     */
    public static Int8Model quantize(
            MultiLayerNetwork net, QuantParams[] activations, boolean perChannel, Set<Integer> floatLayers) {
        return quantize(net, activations, perChannel, floatLayers, 8);
    }

    /**
     * As {@link #quantize(MultiLayerNetwork, QuantParams[], boolean, Set)}, weights at {@code weightBits} bits (8, 4,
     * 2 or 1: {@link WeightQuantizer#params(INDArray, boolean, int)}).
     */
    public static Int8Model quantize(
            MultiLayerNetwork net,
            QuantParams[] activations,
            boolean perChannel,
            Set<Integer> floatLayers,
            int weightBits) {
        return quantize(net, activations, perChannel, 0, floatLayers, layer -> weightBits);
    }

    /**
     * As {@link #quantize(MultiLayerNetwork, QuantParams[], boolean, Set)}, the weights of layer {@code i} at
     * {@code weightBits.applyAsInt(i)} bits (8, 4, 2 or 1): mixed bit widths, one per layer; dense weights with one
     * scale per {@code groupSize} inputs of each output channel when {@code groupSize} > 0
     * ({@link WeightQuantizer#params(INDArray, boolean, int, int)}; convolution kernels keep one per filter).
     *
     * @throws CompactMLException (usage) naming an unsupported layer not listed in {@code floatLayers}, or a dense
     *     layer whose inputs {@code groupSize} does not divide
     */
    public static Int8Model quantize(
            MultiLayerNetwork net,
            QuantParams[] activations,
            boolean perChannel,
            int groupSize,
            Set<Integer> floatLayers,
            java.util.function.IntUnaryOperator weightBits) {
        checkGroupSize(net, groupSize, floatLayers);
        List<Param> params = new ArrayList<>();
        QuantParams[] acts = activations.clone();
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = net.getLayer(i);
            Class<?> type = layer.conf().getLayer().getClass();
            boolean keepFloat = floatLayers.contains(i);
            if (!SUPPORTED.contains(type) && !keepFloat) {
                throw Errors.unsupportedLayer(
                        i,
                        type.getSimpleName(),
                        "Dense, Output, Convolution2D and Subsampling",
                        "quantize.float-layers");
            }
            if (keepFloat) {
                acts[i + 1] = null;
            } else if (isMaxPooling(layer) && acts[i] != null) {
                // a max-pooling output is a subset of its input's values: its input's parameters, so that a QDQ
                // graph can drop the Q/DQ pair around it (ONNX Runtime's QDQ rules require equal parameters)
                acts[i + 1] = acts[i];
            }
            for (Map.Entry<String, INDArray> e : new LinkedHashMap<>(layer.paramTable()).entrySet()) {
                INDArray p = e.getValue().castTo(DataType.FLOAT);
                if (e.getKey().equals("W") && !keepFloat) {
                    int bits = weightBits.applyAsInt(i);
                    int g = WeightQuantizer.grouped(p.shape(), groupSize) ? groupSize : 0;
                    List<QuantParams> qp = WeightQuantizer.params(p, perChannel, bits, g);
                    params.add(new Param(
                            i,
                            "W",
                            p.shape(),
                            WeightQuantizer.quantize(p, qp, bits, g),
                            WeightQuantizer.scales(qp),
                            null,
                            bits,
                            g));
                } else {
                    params.add(Param.floats(
                            i, e.getKey(), p.shape(), p.dup().data().asFloat()));
                }
            }
        }
        return new Int8Model(net.getLayerWiseConfigurations().toJson(), params, acts);
    }

    private static boolean isMaxPooling(Layer layer) {
        return layer.conf().getLayer() instanceof SubsamplingLayer sub
                && sub.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.MAX;
    }

    /**
     * Every dense layer of {@code net} to quantize (not in {@code floatLayers}) has a number of inputs
     * {@code groupSize} divides (0: no groups).
     *
     * @throws CompactMLException (usage) naming the first layer that has not
     */
    public static void checkGroupSize(MultiLayerNetwork net, int groupSize, Set<Integer> floatLayers) {
        for (int i = 0; groupSize > 0 && i < net.getnLayers(); i++) {
            INDArray w = net.getLayer(i).getParam("W");
            if (w != null
                    && !floatLayers.contains(i)
                    && WeightQuantizer.grouped(w.shape(), groupSize)
                    && w.size(0) % groupSize != 0) {
                throw io.compactml.common.Errors.badConfigValue(
                        "quantize.weight-group-size",
                        groupSize,
                        "a divisor of the inputs of every quantized dense layer (layer " + i + " has " + w.size(0)
                                + "), or 0 for one scale per output channel");
            }
        }
    }

    /** The bit width of the quantized weights (8, 4, 2 or 1), 8 when no layer has quantized weights. */
    public int weightBits() {
        return params.stream()
                .filter(p -> p.q() != null)
                .mapToInt(Param::bits)
                .min()
                .orElse(8);
    }

    /** Bits of the weights of a layer kept in float, in {@link #layerBits()}. */
    public static final int FLOAT_BITS = 32;

    /**
     * The weight bit width of every layer, indexed by layer: 8, 4, 2 or 1 for quantized weights,
     * {@link #FLOAT_BITS} for float weights, 0 for a layer without weights (pooling).
     */
    public int[] layerBits() {
        int layers = params.stream().mapToInt(Param::layer).max().orElse(-1) + 1;
        int[] out = new int[Math.max(layers, activations.length - 1)];
        for (Param p : params) {
            if (p.name().equals("W")) {
                out[p.layer()] = p.q() == null ? FLOAT_BITS : p.bits();
            }
        }
        return out;
    }

    /** The network with dequantized weights: what int8 weights compute, in float. */
    public MultiLayerNetwork toNetwork() {
        MultiLayerNetwork net = ParamFile.emptyNetwork(configJson);
        for (Param p : params) {
            net.getLayer(p.layer()).setParam(p.name(), Nd4j.create(dequantize(p), p.shape(), 'c'));
        }
        return net;
    }

    private static float[] dequantize(Param p) {
        return p.q() == null ? p.f() : WeightQuantizer.dequantize(p.q(), p.shape(), p.scales(), p.groupSize());
    }

    /**
     * The int8 weights of one layer, as stored: c-order values over {@code shape} (DL4J's: dense [nIn, nOut],
     * convolution [nOut, nIn, kH, kW]) and one symmetric scale per output channel (or one for the tensor), or with
     * {@code groupSize} > 0 one per group of inputs ({@link WeightQuantizer#scaleIndex}).
     */
    public record Int8Weights(long[] shape, byte[] values, float[] scales, int groupSize) {}

    /** The int8 weights of {@code layer}, or empty when the layer keeps float weights (or has none). */
    public java.util.Optional<Int8Weights> int8Weights(int layer) {
        return params.stream()
                .filter(p -> p.layer() == layer && p.name().equals("W") && p.q() != null)
                .findFirst()
                .map(p -> new Int8Weights(
                        p.shape().clone(), p.q().clone(), p.scales().clone(), p.groupSize()));
    }

    /** Activation parameters per tensor boundary (null where the boundary stays float). */
    public QuantParams[] activations() {
        return activations.clone();
    }

    /**
     * Simulated int8 inference: the input and every layer output quantized and dequantized with its
     * parameters, layer by layer, on a network from {@link #toNetwork()}.
     */
    public static INDArray simulate(MultiLayerNetwork dequantized, QuantParams[] activations, INDArray input) {
        // the stored feature scaling first: the input boundary quantizes the scaled input
        INDArray scaled = ActivationObserver.quantizedInput(dequantized, input);
        INDArray a = activations[0] == null ? scaled : FakeQuant.apply(scaled, activations[0]);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        for (int i = 0; i < dequantized.getnLayers(); i++) {
            InputPreProcessor pre = dequantized.getLayerWiseConfigurations().getInputPreProcess(i);
            if (pre != null && !(pre instanceof FeatureScaling)) {
                a = pre.preProcess(a, (int) a.size(0), ws);
            }
            a = dequantized.getLayer(i).activate(a, false, ws);
            if (activations[i + 1] != null) {
                a = FakeQuant.apply(a, activations[i + 1]);
            }
        }
        return a;
    }

    public byte[] toBytes() {
        return ParamFile.write(
                MAGIC,
                VERSION,
                Deflater.DEFAULT_COMPRESSION,
                configJson,
                params,
                p -> new ParamFile.Header(p.layer(), p.name(), kind(p), p.shape()),
                (out, p) -> {
                    if (p.q() == null) {
                        ParamFile.writeFloats(out, p.f());
                    } else if (p.groupSize() > 0) {
                        out.writeByte(p.bits());
                        out.writeInt(p.groupSize());
                        ParamFile.writeFloats(out, p.scales());
                        ParamFile.writeBytes(out, WeightQuantizer.pack(p.q(), p.bits()));
                    } else if (p.bits() != 8) {
                        out.writeByte(p.bits());
                        ParamFile.writeFloats(out, p.scales());
                        ParamFile.writeBytes(out, WeightQuantizer.pack(p.q(), p.bits()));
                    } else {
                        ParamFile.writeFloats(out, p.scales());
                        ParamFile.writeBytes(out, p.q());
                    }
                },
                out -> {
                    out.writeInt(activations.length);
                    for (QuantParams a : activations) {
                        out.writeBoolean(a != null);
                        if (a != null) {
                            out.writeFloat(a.scale());
                            out.writeInt(a.zeroPoint());
                            out.writeInt(a.qmin());
                            out.writeInt(a.qmax());
                        }
                    }
                });
    }

    private static byte kind(Param p) {
        if (p.q() == null) {
            return FLOAT;
        }
        return p.groupSize() > 0 ? GROUPED : p.bits() == 8 ? INT8 : LOW_BIT;
    }

    /** Reads a {@code model.int8}; {@code source} names it in errors. */
    public static Int8Model fromBytes(byte[] bytes, String source) {
        ParamFile.Contents<Param, QuantParams[]> c = ParamFile.read(
                bytes,
                MAGIC,
                VERSION,
                (in, h) -> {
                    if (h.kind() == INT8) {
                        float[] scales = ParamFile.readFloats(in);
                        return new Param(h.layer(), h.name(), h.shape(), ParamFile.readBytes(in), scales, null, 8, 0);
                    }
                    if (h.kind() == LOW_BIT || h.kind() == GROUPED) {
                        int bits = in.readByte();
                        if (!WeightQuantizer.BITS.contains(bits)) {
                            throw new java.io.IOException("weights of " + bits + " bits");
                        }
                        int groupSize = h.kind() == GROUPED ? in.readInt() : 0;
                        float[] scales = ParamFile.readFloats(in);
                        int n = Math.toIntExact(
                                java.util.Arrays.stream(h.shape()).reduce(1, (a, b) -> a * b));
                        int expected = groupSize > 0 && h.shape().length == 2 && h.shape()[0] % groupSize == 0
                                ? (int) (n / groupSize)
                                : -1;
                        if (h.kind() == GROUPED && scales.length != expected) {
                            throw new java.io.IOException(scales.length + " scales for group size " + groupSize
                                    + " over a weight of shape " + java.util.Arrays.toString(h.shape()));
                        }
                        byte[] q = WeightQuantizer.unpack(ParamFile.readBytes(in), bits, n);
                        return new Param(h.layer(), h.name(), h.shape(), q, scales, null, bits, groupSize);
                    }
                    return Param.floats(h.layer(), h.name(), h.shape(), ParamFile.readFloats(in));
                },
                in -> {
                    QuantParams[] acts = new QuantParams[in.readInt()];
                    for (int t = 0; t < acts.length; t++) {
                        if (in.readBoolean()) {
                            acts[t] = new QuantParams(in.readFloat(), in.readInt(), in.readInt(), in.readInt());
                        }
                    }
                    return acts;
                },
                "int8 model",
                source,
                "Re-run `compactml quantize`.");
        return new Int8Model(c.configJson(), c.params(), c.trailer());
    }
}
