package io.compactml.common.onnx;

import io.compactml.common.Errors;
import io.compactml.common.model.ClassNames;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a CompactML model as an ONNX model (opset {@value #OPSET}, IR version {@value #IR_VERSION}, the pair
 * ONNX 1.8 defined) that ONNX Runtime, Triton and KServe run as they are: one float input {@value #INPUT} of shape
 * [batch, features] (the flat features CompactML reads, scaled as the data spec scales them) and one float output
 * {@value #OUTPUT} of shape [batch, outputs] (what DL4J's {@code output()} returns: probabilities after a softmax).
 *
 * <p>Layers: dense and output layers as {@code Gemm} (B = DL4J's [nIn, nOut] weights), convolutions as
 * {@code Conv} (DL4J's [nOut, nIn, kH, kW] kernels, same or truncated padding written out as pads), max pooling
 * as {@code MaxPool}, the reshape of flat input to NCHW as {@code Reshape} and the flattening before a dense
 * layer as {@code Flatten} (NCHW in c-order, DL4J's element order), activations as {@code Relu}, {@code Tanh},
 * {@code Sigmoid} and {@code Softmax} over the last axis.
 *
 * <p>An int8 model is written in the QDQ form ONNX Runtime's own quantizer writes: weights as int8
 * initializers behind {@code DequantizeLinear}, symmetric per output channel ({@code axis} 1 for dense, 0 for
 * convolution kernels), biases as int32 with scale = input scale x weight scale and zero point 0, and every
 * activation boundary of the {@link Int8Model} as {@code QuantizeLinear} -> {@code DequantizeLinear} with its
 * calibrated scale and zero point (int8 or uint8 by the zero point's type). A boundary the model keeps in float
 * (a layer kept float by the accuracy budget) has none, and a layer whose input is float computes in float on its
 * (dequantized) weights: an int8 kernel needs quantized input, and the runtime's float kernels need constant
 * weights. Around a reshape, a flattening and max pooling the same parameters are repeated, so that the runtime
 * drops the pairs and computes those in int8. A layer with group-wise weight scales ({@code
 * quantize.weight-group-size}) also computes in float on its dequantized weights: opset 13's {@code
 * DequantizeLinear} has one scale per channel at most.
 */
public final class OnnxExport {
    public static final int OPSET = 13;
    public static final long IR_VERSION = 7;
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";

    private OnnxExport() {}

    /** The float network as an ONNX model. */
    public static byte[] of(MultiLayerNetwork net) {
        return export(net, null, false, Outputs.SERVED);
    }

    /** Prefix of the extra outputs of {@link #observing}: {@code activation.<t>} is activation tensor {@code t}. */
    public static final String ACTIVATION = "activation.";

    /**
     * The float network as an ONNX model that also outputs every activation tensor int8 serving quantizes, in
     * {@link io.compactml.common.quant.ActivationObserver}'s numbering: output {@code activation.0} is the (scaled)
     * input, {@code activation.<t>} the output of layer {@code t - 1} (images in NCHW order), after
     * {@value #OUTPUT}; what a calibration pass in ONNX Runtime reads (as ONNX Runtime's own calibrator exposes the
     * intermediate tensors of the graph it calibrates).
     */
    public static byte[] observing(MultiLayerNetwork net) {
        return export(net, null, false, Outputs.ACTIVATIONS);
    }

    /** The single output of {@link #logits}. */
    public static final String LOGITS = "logits";

    /**
     * The float network as an ONNX model whose one output, {@value #LOGITS} [batch, outputs], is the output layer's
     * pre-activation: a softmax classifier's logits (what {@link io.compactml.common.distill.TeacherOutputs#of}
     * computes in DL4J and distillation softens with a temperature), a regression model's outputs themselves.
     */
    public static byte[] logits(MultiLayerNetwork net) {
        return export(net, null, false, Outputs.LOGITS);
    }

    /** What a graph outputs: the served output; that and every activation; or only the output layer's logits. */
    private enum Outputs {
        SERVED,
        ACTIVATIONS,
        LOGITS
    }

    /** An int8 model as a QDQ ONNX model. */
    public static byte[] of(Int8Model model) {
        return export(model.toNetwork(), model, true, Outputs.SERVED);
    }

    /** An int8 model as a QDQ ONNX model, flattened in DL4J's NCHW order ({@code hwc} false) or in NHWC order. */
    public static byte[] of(Int8Model model, boolean hwc) {
        return export(model.toNetwork(), model, hwc, Outputs.SERVED);
    }

    /**
     * Where the graph is: the current tensor's name; for images its channels, height and width; whether it is
     * an image flattened in height-width-channel order (the next dense layer's rows are then reordered to match).
     */
    private record Cursor(String name, long c, long h, long w, boolean hwc) {
        Cursor(String name, long c, long h, long w) {
            this(name, c, h, w, false);
        }

        Cursor to(String next) {
            return new Cursor(next, c, h, w, hwc);
        }
    }

    private static byte[] export(MultiLayerNetwork net, Int8Model int8, boolean hwc, Outputs outputs) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        QuantParams[] acts = int8 == null ? new QuantParams[net.getnLayers() + 1] : int8.activations();
        OnnxGraph g = new OnnxGraph(int8 == null ? "compactml" : "compactml-qdq");
        long features = ModelShapes.inputs(net);
        g.input(INPUT, features);
        // the stored feature scaling as the graph's first nodes, so that the graph takes raw rows; the input boundary
        // quantizes the scaled input
        String scaled = FeatureScaling.of(net).map(s -> scaling(g, s)).orElse(INPUT);
        Cursor x = new Cursor(boundary(g, scaled, acts[0], "input"), 0, 0, 0);
        List<String> activations = new java.util.ArrayList<>(List.of(scaled));
        for (int i = 0; i < net.getnLayers(); i++) {
            x = preprocess(g, x, conf.getInputPreProcess(i), acts[i], i, hwc);
            Layer layer = conf.getConf(i).getLayer();
            // int8 weights behind DequantizeLinear only where the input is quantized too (what the runtime fuses into
            // an
            // int8 kernel); a layer with float input computes in float, on float (dequantized) weights
            // group-wise scales have no DequantizeLinear before opset 21's blocked form: such a layer computes in
            // float on its dequantized weights (the same values)
            Optional<Int8Model.Int8Weights> q = int8 == null || acts[i] == null
                    ? Optional.empty()
                    : int8.int8Weights(i).filter(iw -> iw.groupSize() == 0);
            String prefix = "layer" + i;
            if (layer instanceof ConvolutionLayer conv) {
                x = conv(g, x, conv, net.getLayer(i).paramTable().get("W"), bias(net, i), q, acts[i], prefix);
                x = x.to(activation(g, x.name(), conv.getActivationFn(), i, prefix));
            } else if (layer instanceof SubsamplingLayer pool) {
                x = maxPool(g, x, pool, i, prefix);
            } else if (layer instanceof DenseLayer || layer instanceof OutputLayer) {
                INDArray w = net.getLayer(i).paramTable().get("W");
                Cursor in = x;
                if (in.hwc()) {
                    w = hwcRows(w, in.c(), in.h(), in.w());
                    q = q.map(iw -> hwcRows(iw, in.c(), in.h(), in.w()));
                }
                String y = gemm(g, in.name(), w, bias(net, i), q, acts[i], prefix);
                if (outputs == Outputs.LOGITS && i == net.getnLayers() - 1) {
                    g.node("Identity", LOGITS, List.of(y));
                    g.output(LOGITS, ModelShapes.outputs(net));
                    return g.model(IR_VERSION, OPSET, "compactml", metadata(net));
                }
                x = new Cursor(activation(g, y, ((BaseLayer) layer).getActivationFn(), i, prefix), 0, 0, 0);
            } else {
                throw Errors.unsupportedExport(i, layer.getClass().getSimpleName());
            }
            activations.add(x.name());
            x = x.to(boundary(g, x.name(), acts[i + 1], prefix + ".out"));
        }
        g.node("Identity", OUTPUT, List.of(x.name()));
        g.output(OUTPUT, ModelShapes.outputs(net));
        for (int t = 0; outputs == Outputs.ACTIVATIONS && t < activations.size(); t++) {
            g.output(g.node("Identity", ACTIVATION + t, List.of(activations.get(t))));
        }
        return g.model(IR_VERSION, OPSET, "compactml", metadata(net));
    }

    /** The {@code metadata_props} key whose value is the class names, a JSON array: output {@code i} is name i. */
    public static final String CLASS_NAMES = "class_names";

    private static java.util.Map<String, String> metadata(MultiLayerNetwork net) {
        return ClassNames.of(net)
                .map(c -> {
                    try {
                        return java.util.Map.of(
                                CLASS_NAMES,
                                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(c.names()));
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                })
                .orElse(java.util.Map.of());
    }

    /** Dense weights [c*h*w, nOut] with rows in channel-height-width order, reordered to height-width-channel. */
    private static INDArray hwcRows(INDArray w, long c, long h, long wd) {
        float[] v = floats(w);
        long nOut = w.size(1);
        float[] out = new float[v.length];
        permuteRows(
                c, h, wd, (from, to) -> System.arraycopy(v, (int) (from * nOut), out, (int) (to * nOut), (int) nOut));
        return org.nd4j.linalg.factory.Nd4j.create(out, w.shape(), 'c');
    }

    private static Int8Model.Int8Weights hwcRows(Int8Model.Int8Weights w, long c, long h, long wd) {
        long nOut = w.shape()[1];
        byte[] out = new byte[w.values().length];
        permuteRows(
                c,
                h,
                wd,
                (from, to) -> System.arraycopy(w.values(), (int) (from * nOut), out, (int) (to * nOut), (int) nOut));
        return new Int8Model.Int8Weights(w.shape(), out, w.scales(), w.groupSize());
    }

    private interface RowMove {
        void move(long from, long to);
    }

    private static void permuteRows(long c, long h, long w, RowMove move) {
        for (long ci = 0; ci < c; ci++) {
            for (long hi = 0; hi < h; hi++) {
                for (long wi = 0; wi < w; wi++) {
                    move.move((ci * h + hi) * w + wi, (hi * w + wi) * c + ci);
                }
            }
        }
    }

    private static float[] bias(MultiLayerNetwork net, int layer) {
        INDArray b = net.getLayer(layer).paramTable().get("b");
        return b == null ? null : floats(b);
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** {@code (x - shift) * factor} per feature: {@code Sub} and {@code Mul} on [features] initializers. */
    private static String scaling(OnnxGraph g, FeatureScaling s) {
        String shift = g.floats("input.shift", s.shift(), s.features());
        String factor = g.floats("input.factor", s.factor(), s.features());
        String centred = g.node("Sub", "input.centred", List.of(INPUT, shift));
        return g.node("Mul", "input.scaled", List.of(centred, factor));
    }

    /** Reshape of flat input to NCHW, or the flattening of NCHW before a dense layer, with its boundary again. */
    private static Cursor preprocess(OnnxGraph g, Cursor x, InputPreProcessor pre, QuantParams p, int i, boolean hwc) {
        if (pre == null || pre instanceof FeatureScaling || pre instanceof ClassNames) {
            // a feature scaling is the graph's first nodes already; class names go in the model's metadata
            return x;
        }
        String prefix = "layer" + i;
        if (pre instanceof FeedForwardToCnnPreProcessor f) {
            String shape = g.int64s(
                    prefix + ".shape", new long[] {-1, f.getNumChannels(), f.getInputHeight(), f.getInputWidth()}, 4);
            String y = g.node("Reshape", prefix + ".nchw", List.of(x.name(), shape));
            return new Cursor(
                    boundary(g, y, p, prefix + ".nchw"), f.getNumChannels(), f.getInputHeight(), f.getInputWidth());
        }
        if (pre instanceof CnnToFeedForwardPreProcessor) {
            String from = x.name();
            if (hwc) {
                // NHWC before flattening: the runtime computes int8 convolutions in NHWC and this transpose then
                // cancels the one back to NCHW it would insert; the dense weights are reordered to match
                from = g.node("Transpose", prefix + ".nhwc", List.of(from), OnnxGraph.attr("perm", 0, 2, 3, 1));
            }
            String y = g.node("Flatten", prefix + ".flat", List.of(from), OnnxGraph.attr("axis", 1L));
            return new Cursor(boundary(g, y, p, prefix + ".flat"), x.c(), x.h(), x.w(), hwc);
        }
        throw Errors.unsupportedExport(i, pre.getClass().getSimpleName());
    }

    /** {@code QuantizeLinear -> DequantizeLinear} with {@code p}, or nothing for a float boundary. */
    private static String boundary(OnnxGraph g, String x, QuantParams p, String base) {
        if (p == null) {
            return x;
        }
        String scale = g.floats(base + ".scale", new float[] {p.scale()});
        String zero = p.qmin() < 0
                ? g.int8s(base + ".zero_point", new byte[] {(byte) p.zeroPoint()})
                : g.uint8s(base + ".zero_point", new int[] {p.zeroPoint()});
        String q = g.node("QuantizeLinear", base + ".q", List.of(x, scale, zero));
        return g.node("DequantizeLinear", base + ".dq", List.of(q, scale, zero));
    }

    /**
     * A weight tensor: float, or int8 per channel behind {@code DequantizeLinear} on {@code axis} (one scale per
     * tensor: no axis).
     */
    private static String weights(OnnxGraph g, String base, INDArray w, Optional<Int8Model.Int8Weights> q, int axis) {
        if (q.isEmpty()) {
            return g.floats(base, floats(w), w.shape());
        }
        Int8Model.Int8Weights iw = q.get();
        String values = g.int8s(base + ".int8", iw.values(), iw.shape());
        int channels = iw.scales().length;
        if (channels == 1) {
            return g.node(
                    "DequantizeLinear",
                    base,
                    List.of(
                            values,
                            g.floats(base + ".scale", iw.scales()),
                            g.int8s(base + ".zero_point", new byte[1])));
        }
        return g.node(
                "DequantizeLinear",
                base,
                List.of(
                        values,
                        g.floats(base + ".scale", iw.scales(), channels),
                        g.int8s(base + ".zero_point", new byte[channels], channels)),
                OnnxGraph.attr("axis", (long) axis));
    }

    /**
     * A bias: float, or, when the weights are int8 and the input quantized, int32 with scale = input scale x
     * weight scale per channel and zero point 0 behind {@code DequantizeLinear} (what lets the runtime fuse it).
     */
    private static String bias(
            OnnxGraph g, String base, float[] b, Optional<Int8Model.Int8Weights> q, QuantParams input) {
        if (b == null) {
            return "";
        }
        if (q.isEmpty() || input == null) {
            return g.floats(base, b, b.length);
        }
        float[] w = q.get().scales();
        float[] scales = new float[b.length];
        int[] values = new int[b.length];
        for (int c = 0; c < b.length; c++) {
            scales[c] = input.scale() * w[w.length == 1 ? 0 : c];
            values[c] = (int) Math.rint(b[c] / scales[c]);
        }
        return g.node(
                "DequantizeLinear",
                base,
                List.of(
                        g.int32s(base + ".int32", values, b.length),
                        g.floats(base + ".scale", scales, b.length),
                        g.int32s(base + ".zero_point", new int[b.length], b.length)),
                OnnxGraph.attr("axis", 0L));
    }

    private static String gemm(
            OnnxGraph g,
            String x,
            INDArray w,
            float[] b,
            Optional<Int8Model.Int8Weights> q,
            QuantParams input,
            String prefix) {
        String weights = weights(g, prefix + ".W", w, q, 1);
        String bias = bias(g, prefix + ".b", b, q, input);
        List<String> inputs = new ArrayList<>(List.of(x, weights));
        if (!bias.isEmpty()) {
            inputs.add(bias);
        }
        return g.node("Gemm", prefix + ".gemm", inputs);
    }

    private static Cursor conv(
            OnnxGraph g,
            Cursor x,
            ConvolutionLayer conv,
            INDArray w,
            float[] b,
            Optional<Int8Model.Int8Weights> q,
            QuantParams input,
            String prefix) {
        int[] k = conv.getKernelSize();
        int[] s = conv.getStride();
        int[] d = conv.getDilation();
        long[] pads = pads(conv.getConvolutionMode(), conv.getPadding(), k, s, d, x.h(), x.w());
        List<String> inputs = new ArrayList<>(List.of(x.name(), weights(g, prefix + ".W", w, q, 0)));
        String bias = bias(g, prefix + ".b", b, q, input);
        if (!bias.isEmpty()) {
            inputs.add(bias);
        }
        String y = g.node(
                "Conv",
                prefix + ".conv",
                inputs,
                OnnxGraph.attr("kernel_shape", k[0], k[1]),
                OnnxGraph.attr("strides", s[0], s[1]),
                OnnxGraph.attr("dilations", d[0], d[1]),
                OnnxGraph.attr("pads", pads));
        return new Cursor(
                y,
                conv.getNOut(),
                outSize(x.h(), k[0], s[0], d[0], pads[0] + pads[2]),
                outSize(x.w(), k[1], s[1], d[1], pads[1] + pads[3]));
    }

    private static Cursor maxPool(OnnxGraph g, Cursor x, SubsamplingLayer pool, int i, String prefix) {
        if (pool.getPoolingType() != org.deeplearning4j.nn.conf.layers.PoolingType.MAX) {
            throw Errors.unsupportedExport(i, "SubsamplingLayer " + pool.getPoolingType());
        }
        int[] k = pool.getKernelSize();
        int[] s = pool.getStride();
        int[] d = pool.getDilation();
        long[] pads = pads(pool.getConvolutionMode(), pool.getPadding(), k, s, d, x.h(), x.w());
        String y = g.node(
                "MaxPool",
                prefix + ".pool",
                List.of(x.name()),
                OnnxGraph.attr("kernel_shape", k[0], k[1]),
                OnnxGraph.attr("strides", s[0], s[1]),
                OnnxGraph.attr("pads", pads));
        return new Cursor(
                y,
                x.c(),
                outSize(x.h(), k[0], s[0], d[0], pads[0] + pads[2]),
                outSize(x.w(), k[1], s[1], d[1], pads[1] + pads[3]));
    }

    /**
     * ONNX pads [top, left, bottom, right] for DL4J's convolution mode: {@code Same} pads so that the output is
     * ceil(in / stride), the odd pixel at the bottom and right (DL4J's and ONNX's SAME_UPPER); otherwise the
     * layer's explicit symmetric padding.
     */
    static long[] pads(ConvolutionMode mode, int[] padding, int[] k, int[] s, int[] d, long h, long w) {
        if (mode == ConvolutionMode.Same) {
            long th = samePad(h, k[0], s[0], d[0]);
            long tw = samePad(w, k[1], s[1], d[1]);
            return new long[] {th / 2, tw / 2, th - th / 2, tw - tw / 2};
        }
        return new long[] {padding[0], padding[1], padding[0], padding[1]};
    }

    private static long samePad(long in, int k, int s, int d) {
        long out = (in + s - 1) / s;
        return Math.max(0, (out - 1) * s + (long) (k - 1) * d + 1 - in);
    }

    private static long outSize(long in, int k, int s, int d, long pad) {
        return (in + pad - ((long) (k - 1) * d + 1)) / s + 1;
    }

    private static String activation(OnnxGraph g, String x, IActivation fn, int i, String prefix) {
        if (fn instanceof ActivationIdentity) {
            return x;
        }
        if (fn instanceof ActivationReLU) {
            return g.node("Relu", prefix + ".relu", List.of(x));
        }
        if (fn instanceof ActivationTanH) {
            return g.node("Tanh", prefix + ".tanh", List.of(x));
        }
        if (fn instanceof ActivationSigmoid) {
            return g.node("Sigmoid", prefix + ".sigmoid", List.of(x));
        }
        if (fn instanceof ActivationSoftmax) {
            return g.node("Softmax", prefix + ".softmax", List.of(x), OnnxGraph.attr("axis", -1L));
        }
        throw Errors.unsupportedExport(i, "activation " + fn);
    }
}
