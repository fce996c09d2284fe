package io.compactml.common.onnx;

import io.compactml.common.Errors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Reads an ONNX model (as {@code torch.onnx.export}, {@code tf2onnx} or {@link OnnxExport} write them) into a DL4J
 * network that CompactML can compress: a chain of {@code Gemm} (or {@code MatMul} and an {@code Add} of a
 * constant), {@code Conv}, {@code MaxPool}, {@code Flatten} or {@code Reshape}, {@code Relu}, {@code Tanh},
 * {@code Sigmoid} and {@code Softmax}, with {@code Identity} and {@code Dropout} passed over. The last weight layer
 * becomes the output layer: softmax with cross-entropy when the graph ends in {@code Softmax}, else identity with
 * MSE (a graph that ends in logits is read as a regression model). An input of shape [batch, C, H, W] is read from
 * CompactML's flat features (c-order, as ONNX's NCHW). Anything else is refused naming the node, its op and what
 * is supported (exit 2).
 */
public final class OnnxImport {
    static final String SUPPORTED = "Gemm, MatMul + Add, Conv, MaxPool, Flatten, Reshape, Relu, Tanh, Sigmoid,"
            + " Softmax, Identity, Dropout, and Sub, Mul or Div by per-feature constants before the first layer";

    private OnnxImport() {}

    /** A weight layer or pooling read from the graph, in order. */
    private static final class Part {
        final String kind; // dense, conv, pool
        float[] w;
        long[] wShape;
        float[] b;
        Activation activation = Activation.IDENTITY;
        int[] kernel;
        int[] stride;
        int[] padding;
        int[] dilation;

        Part(String kind) {
            this.kind = kind;
        }
    }

    /** A constant tensor: c-order float values (integers read as floats) and its dims. */
    private record Tensor(float[] values, long[] dims) {}

    /**
     * The network {@code bytes} describe; {@code source} names it in errors.
     *
     * @throws io.compactml.common.CompactMLException (usage) for a file that does not parse or an unsupported op
     */
    public static MultiLayerNetwork toNetwork(byte[] bytes, String source) {
        Onnx.ModelProto model;
        try {
            model = Onnx.ModelProto.parseFrom(bytes);
        } catch (Exception e) {
            throw Errors.unreadableOnnx(source, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        Onnx.GraphProto graph = model.getGraph();
        if (graph.getNodeCount() == 0) {
            throw Errors.unreadableOnnx(source, "the graph has no nodes");
        }
        Map<String, Tensor> constants = new HashMap<>();
        graph.getInitializerList().forEach(t -> constants.put(t.getName(), tensor(t)));
        long[] inputShape = inputShape(graph, constants.keySet(), source);
        List<Part> parts = new ArrayList<>();
        boolean softmax = false;
        long[][] images = new long[1][];
        Scaling scaling = new Scaling(inputShape);
        for (Onnx.NodeProto n : graph.getNodeList()) {
            if (!scaling.read(n, constants, parts)) {
                softmax = read(n, constants, parts, inputShape, images) || softmax;
            }
        }
        MultiLayerNetwork net = build(parts, images[0] != null ? images[0] : inputShape, softmax, source);
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        boolean stored = false;
        if (scaling.present()) {
            scaling.toFeatureScaling().attachTo(conf);
            stored = true;
        }
        List<String> names = classNames(model, source);
        if (names != null) {
            int outputs = io.compactml.common.model.ModelShapes.outputs(net);
            if (names.size() != outputs) {
                throw Errors.unreadableOnnx(
                        source, "its metadata names " + names.size() + " classes for " + outputs + " outputs");
            }
            new io.compactml.common.model.ClassNames(names).attachTo(conf, names.size());
            stored = true;
        }
        if (!stored) {
            return net;
        }
        MultiLayerNetwork with = new MultiLayerNetwork(conf);
        with.init(net.params(), false);
        return with;
    }

    /**
     * A per-feature normalization before the first layer: {@code Sub} of a shift, then {@code Mul} by a factor or
     * {@code Div} by a divisor ({@code (x - mean) / std}, as PyTorch exports it, or {@link OnnxExport}'s scaling),
     * each on constants of one value or [features]; read as a {@link io.compactml.common.model.FeatureScaling}, so the
     * network takes raw rows as the graph does.
     */
    private static final class Scaling {
        final int features;
        float[] shift;
        float[] factor;

        Scaling(long[] inputShape) {
            this.features = inputShape.length == 2 ? (int) inputShape[1] : -1;
        }

        /** Whether {@code n} is part of the normalization (then it is taken in). */
        boolean read(Onnx.NodeProto n, Map<String, Tensor> constants, List<Part> parts) {
            String op = n.getOpType();
            if (!parts.isEmpty() || !(op.equals("Sub") || op.equals("Mul") || op.equals("Div"))) {
                return false;
            }
            if (features < 0) {
                throw Errors.unsupportedOnnx(op + " on an image input", n.getName(), SUPPORTED);
            }
            float[] c = perFeature(constant(n, 1, constants).values(), n);
            if (op.equals("Sub")) {
                if (shift != null || factor != null) {
                    throw Errors.unsupportedOnnx("Sub after another Sub, Mul or Div", n.getName(), SUPPORTED);
                }
                shift = c;
                return true;
            }
            if (factor != null) {
                throw Errors.unsupportedOnnx(op + " after another Mul or Div", n.getName(), SUPPORTED);
            }
            factor = new float[features];
            for (int j = 0; j < features; j++) {
                factor[j] = op.equals("Mul") ? c[j] : 1 / c[j];
            }
            return true;
        }

        private float[] perFeature(float[] c, Onnx.NodeProto n) {
            if (c.length == features) {
                return c;
            }
            if (c.length == 1) {
                float[] all = new float[features];
                java.util.Arrays.fill(all, c[0]);
                return all;
            }
            throw Errors.unsupportedOnnx(
                    n.getOpType() + " by " + c.length + " values on " + features + " features", n.getName(), SUPPORTED);
        }

        boolean present() {
            return shift != null || factor != null;
        }

        io.compactml.common.model.FeatureScaling toFeatureScaling() {
            float[] ones = new float[features];
            java.util.Arrays.fill(ones, 1f);
            return new io.compactml.common.model.FeatureScaling(
                    "standardize", shift == null ? new float[features] : shift, factor == null ? ones : factor);
        }
    }

    /** The class names in the model's {@code metadata_props} ({@link OnnxExport#CLASS_NAMES}), or null. */
    private static List<String> classNames(Onnx.ModelProto model, String source) {
        try {
            for (Onnx.StringStringEntryProto e : model.getMetadataPropsList()) {
                if (e.getKey().equals(OnnxExport.CLASS_NAMES)) {
                    return java.util.Arrays.asList(
                            new com.fasterxml.jackson.databind.ObjectMapper().readValue(e.getValue(), String[].class));
                }
            }
            return null;
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw Errors.unreadableOnnx(
                    source, "its metadata " + OnnxExport.CLASS_NAMES + " is not a JSON array of distinct names");
        }
    }

    /** Adds what node {@code n} does; true when it is the final softmax. */
    private static boolean read(
            Onnx.NodeProto n, Map<String, Tensor> constants, List<Part> parts, long[] in, long[][] images) {
        Part last = parts.isEmpty() ? null : parts.get(parts.size() - 1);
        switch (n.getOpType()) {
            case "Identity", "Dropout", "Flatten" -> {
                return false;
            }
            case "Reshape" -> {
                Tensor shape = constant(n, 1, constants);
                if (parts.isEmpty() && in.length == 2 && shape.values().length == 4) {
                    // flat features reshaped to NCHW: the network takes flat input, as DL4J's convolutionalFlat
                    long[] nchw = {in[0], (long) shape.values()[1], (long) shape.values()[2], (long) shape.values()[3]};
                    in[1] = nchw[1] * nchw[2] * nchw[3];
                    images[0] = nchw;
                }
                return false;
            }
            case "Constant" -> {
                constants.put(n.getOutput(0), tensor(attribute(n, "value").getT()));
                return false;
            }
            case "Gemm" -> {
                parts.add(gemm(n, constants));
                return false;
            }
            case "MatMul" -> {
                parts.add(dense(constant(n, 1, constants), false, n));
                return false;
            }
            case "Add" -> {
                if (last == null || !last.kind.equals("dense") || last.b != null) {
                    throw Errors.unsupportedOnnx("Add (other than a MatMul's bias)", n.getName(), SUPPORTED);
                }
                last.b = constants.containsKey(n.getInput(1))
                        ? constant(n, 1, constants).values()
                        : constant(n, 0, constants).values();
                return false;
            }
            case "Relu", "Tanh", "Sigmoid", "Softmax" -> {
                return activation(n, last);
            }
            case "Conv" -> {
                parts.add(conv(n, constants));
                return false;
            }
            case "MaxPool" -> {
                long[] k = ints(n, "kernel_shape", null);
                parts.add(spatial(new Part("pool"), n, (int) k[0], (int) k[1]));
                return false;
            }
            default -> throw Errors.unsupportedOnnx(n.getOpType(), n.getName(), SUPPORTED);
        }
    }

    /** {@code Gemm(A, B, C)} with alpha = beta = 1 and A not transposed: a dense layer. */
    private static Part gemm(Onnx.NodeProto n, Map<String, Tensor> constants) {
        if (intAttr(n, "transA", 0) != 0 || floatAttr(n, "alpha", 1) != 1 || floatAttr(n, "beta", 1) != 1) {
            throw Errors.unsupportedOnnx("Gemm with transA, alpha or beta", n.getName(), SUPPORTED);
        }
        Part p = dense(constant(n, 1, constants), intAttr(n, "transB", 0) == 1, n);
        p.b = bias(n, constants);
        return p;
    }

    /** An ungrouped {@code Conv(X, W, B)}: W is [nOut, nIn, kH, kW], as DL4J keeps it. */
    private static Part conv(Onnx.NodeProto n, Map<String, Tensor> constants) {
        if (intAttr(n, "group", 1) != 1) {
            throw Errors.unsupportedOnnx("grouped Conv", n.getName(), SUPPORTED);
        }
        Tensor w = constant(n, 1, constants);
        Part p = spatial(new Part("conv"), n, (int) w.dims()[2], (int) w.dims()[3]);
        p.w = w.values();
        p.wShape = w.dims();
        p.b = bias(n, constants);
        return p;
    }

    /** The optional third input (a bias), or null. */
    private static float[] bias(Onnx.NodeProto n, Map<String, Tensor> constants) {
        return n.getInputCount() > 2 && !n.getInput(2).isEmpty()
                ? constant(n, 2, constants).values()
                : null;
    }

    /** An activation node: the activation of the weight layer just before it; true for a softmax. */
    private static boolean activation(Onnx.NodeProto n, Part last) {
        if (last == null || last.kind.equals("pool") || last.activation != Activation.IDENTITY) {
            throw Errors.unsupportedOnnx(n.getOpType() + " not right after a weight layer", n.getName(), SUPPORTED);
        }
        last.activation = switch (n.getOpType()) {
            case "Relu" -> Activation.RELU;
            case "Tanh" -> Activation.TANH;
            case "Sigmoid" -> Activation.SIGMOID;
            default -> Activation.SOFTMAX;
        };
        return last.activation == Activation.SOFTMAX;
    }

    /** A dense layer's weights as DL4J keeps them: [nIn, nOut] ({@code B} of Gemm, transposed when transB). */
    private static Part dense(Tensor b, boolean transposed, Onnx.NodeProto n) {
        if (b.dims().length != 2) {
            throw Errors.unsupportedOnnx(
                    n.getOpType() + " with a weight of rank " + b.dims().length, n.getName(), SUPPORTED);
        }
        Part p = new Part("dense");
        long rows = b.dims()[0];
        long cols = b.dims()[1];
        if (!transposed) {
            p.w = b.values();
            p.wShape = new long[] {rows, cols};
            return p;
        }
        float[] t = new float[b.values().length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[(int) (c * rows + r)] = b.values()[(int) (r * cols + c)];
            }
        }
        p.w = t;
        p.wShape = new long[] {cols, rows};
        return p;
    }

    private static Part spatial(Part p, Onnx.NodeProto n, int kh, int kw) {
        long[] pads = ints(n, "pads", new long[] {0, 0, 0, 0});
        if (pads[0] != pads[2] || pads[1] != pads[3]) {
            throw Errors.unsupportedOnnx(n.getOpType() + " with asymmetric pads", n.getName(), SUPPORTED);
        }
        String autoPad = stringAttr(n, "auto_pad", "NOTSET");
        if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
            throw Errors.unsupportedOnnx(n.getOpType() + " with auto_pad " + autoPad, n.getName(), SUPPORTED);
        }
        long[] s = ints(n, "strides", new long[] {1, 1});
        long[] d = ints(n, "dilations", new long[] {1, 1});
        p.kernel = new int[] {kh, kw};
        p.stride = new int[] {(int) s[0], (int) s[1]};
        p.padding = new int[] {(int) pads[0], (int) pads[1]};
        p.dilation = new int[] {(int) d[0], (int) d[1]};
        return p;
    }

    private static MultiLayerNetwork build(List<Part> parts, long[] in, boolean softmax, String source) {
        int lastWeights = -1;
        for (int i = 0; i < parts.size(); i++) {
            lastWeights = parts.get(i).kind.equals("pool") ? lastWeights : i;
        }
        if (lastWeights < 0 || !parts.get(lastWeights).kind.equals("dense") || lastWeights != parts.size() - 1) {
            throw Errors.unreadableOnnx(source, "the graph does not end in a dense layer");
        }
        NeuralNetConfiguration.ListBuilder list =
                new NeuralNetConfiguration.Builder().updater(new Adam(1e-3)).list();
        for (int i = 0; i < parts.size(); i++) {
            list.layer(i, layer(parts.get(i), i == parts.size() - 1, softmax));
        }
        list.setInputType(
                in.length == 4 ? InputType.convolutionalFlat(in[2], in[3], in[1]) : InputType.feedForward(in[1]));
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int i = 0; i < parts.size(); i++) {
            Part p = parts.get(i);
            if (p.w != null) {
                net.getLayer(i).setParam("W", Nd4j.create(p.w, p.wShape, 'c'));
                long nOut = p.kind.equals("conv") ? p.wShape[0] : p.wShape[1];
                net.getLayer(i)
                        .setParam(
                                "b", Nd4j.create(p.b == null ? new float[(int) nOut] : p.b, new long[] {1, nOut}, 'c'));
            }
        }
        return net;
    }

    private static org.deeplearning4j.nn.conf.layers.Layer layer(Part p, boolean output, boolean softmax) {
        return switch (p.kind) {
            case "conv" ->
                new ConvolutionLayer.Builder(p.kernel)
                        .stride(p.stride)
                        .padding(p.padding)
                        .dilation(p.dilation)
                        .nIn(p.wShape[1])
                        .nOut(p.wShape[0])
                        .convolutionMode(ConvolutionMode.Truncate)
                        .activation(p.activation)
                        .build();
            case "pool" ->
                new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(p.kernel)
                        .stride(p.stride)
                        .padding(p.padding)
                        .dilation(p.dilation)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .build();
            default ->
                output
                        ? new OutputLayer.Builder(
                                        softmax ? LossFunctions.LossFunction.MCXENT : LossFunctions.LossFunction.MSE)
                                .nIn(p.wShape[0])
                                .nOut(p.wShape[1])
                                .activation(p.activation)
                                .build()
                        : new DenseLayer.Builder()
                                .nIn(p.wShape[0])
                                .nOut(p.wShape[1])
                                .activation(p.activation)
                                .build();
        };
    }

    /** The shape of the graph's one data input (an input that is not an initializer). */
    private static long[] inputShape(Onnx.GraphProto graph, Set<String> initializers, String source) {
        List<long[]> shapes = new ArrayList<>();
        for (Onnx.ValueInfoProto v : graph.getInputList()) {
            if (!initializers.contains(v.getName())) {
                List<Onnx.TensorShapeProto.Dimension> dims =
                        v.getType().getTensorType().getShape().getDimList();
                long[] s = new long[dims.size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = dims.get(i).getDimValue();
                }
                shapes.add(s);
            }
        }
        if (shapes.size() != 1 || (shapes.get(0).length != 2 && shapes.get(0).length != 4)) {
            throw Errors.unreadableOnnx(source, "expected one input of shape [batch, features] or [batch, C, H, W]");
        }
        return shapes.get(0);
    }

    private static Tensor constant(Onnx.NodeProto n, int input, Map<String, Tensor> constants) {
        Tensor t = constants.get(n.getInput(input));
        if (t == null) {
            throw Errors.unsupportedOnnx(
                    n.getOpType() + " whose input " + input + " is not a constant", n.getName(), SUPPORTED);
        }
        return t;
    }

    private static Tensor tensor(Onnx.TensorProto t) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[(int) n];
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        boolean hasRaw = raw.remaining() > 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (t.getDataType()) {
                case FLOAT -> hasRaw ? raw.getFloat() : t.getFloatData(i);
                case INT64 -> hasRaw ? raw.getLong() : t.getInt64Data(i);
                case INT32 -> hasRaw ? raw.getInt() : t.getInt32Data(i);
                default ->
                    throw Errors.unsupportedOnnx(
                            "tensor of type " + t.getDataType(), t.getName(), "float32, int64 and int32 constants");
            };
        }
        return new Tensor(v, dims);
    }

    private static Onnx.AttributeProto attribute(Onnx.NodeProto n, String name) {
        return n.getAttributeList().stream()
                .filter(a -> a.getName().equals(name))
                .findFirst()
                .orElse(null);
    }

    private static long intAttr(Onnx.NodeProto n, String name, long fallback) {
        Onnx.AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getI();
    }

    private static float floatAttr(Onnx.NodeProto n, String name, float fallback) {
        Onnx.AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getF();
    }

    private static String stringAttr(Onnx.NodeProto n, String name, String fallback) {
        Onnx.AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    private static long[] ints(Onnx.NodeProto n, String name, long[] fallback) {
        Onnx.AttributeProto a = attribute(n, name);
        return a == null
                ? fallback
                : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** The op types of a model's nodes, in order: what a runtime's optimized graph computes with. */
    public static List<String> opTypes(byte[] bytes) {
        try {
            return Onnx.ModelProto.parseFrom(bytes).getGraph().getNodeList().stream()
                    .map(Onnx.NodeProto::getOpType)
                    .toList();
        } catch (Exception e) {
            throw new IllegalArgumentException("not an ONNX model", e);
        }
    }
}
