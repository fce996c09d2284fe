package io.compactml.common.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

/**
 * Builds one ONNX graph with the ONNX protobuf classes (ND4J bundles them as {@code onnx.Onnx}): initializers
 * stored as little-endian {@code raw_data}, nodes with their attributes, and the graph's typed inputs and outputs.
 * Every value gets a unique name from its purpose ({@code layer1.W}, {@code layer1.out}, ...).
 */
final class OnnxGraph {
    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder();
    private final List<String> names = new ArrayList<>();

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** A name not used yet: {@code base}, or {@code base_2}, ... */
    String name(String base) {
        String n = base;
        for (int k = 2; names.contains(n); k++) {
            n = base + "_" + k;
        }
        names.add(n);
        return n;
    }

    /** A float32 initializer of {@code dims} (c-order values). */
    String floats(String base, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return initializer(base, Onnx.TensorProto.DataType.FLOAT, b.array(), dims);
    }

    /** An int8 initializer of {@code dims}. */
    String int8s(String base, byte[] values, long... dims) {
        return initializer(base, Onnx.TensorProto.DataType.INT8, values.clone(), dims);
    }

    /** A uint8 initializer of {@code dims}, values in [0, 255]. */
    String uint8s(String base, int[] values, long... dims) {
        byte[] raw = new byte[values.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) values[i];
        }
        return initializer(base, Onnx.TensorProto.DataType.UINT8, raw, dims);
    }

    /** An int32 initializer of {@code dims}. */
    String int32s(String base, int[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return initializer(base, Onnx.TensorProto.DataType.INT32, b.array(), dims);
    }

    /** An int64 initializer of {@code dims}. */
    String int64s(String base, long[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return initializer(base, Onnx.TensorProto.DataType.INT64, b.array(), dims);
    }

    private String initializer(String base, Onnx.TensorProto.DataType type, byte[] raw, long... dims) {
        String n = name(base);
        Onnx.TensorProto.Builder t =
                Onnx.TensorProto.newBuilder().setName(n).setDataType(type).setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return n;
    }

    /** A node of {@code op} on {@code inputs} ("" for an omitted optional input); returns its output's name. */
    String node(String op, String output, List<String> inputs, Onnx.AttributeProto... attributes) {
        String out = name(output);
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder()
                .setOpType(op)
                .setName(name(out + "." + op))
                .addOutput(out);
        inputs.forEach(n::addInput);
        for (Onnx.AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    static Onnx.AttributeProto attr(String name, long value) {
        return Onnx.AttributeProto.newBuilder()
                .setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(value)
                .build();
    }

    static Onnx.AttributeProto attr(String name, long... values) {
        Onnx.AttributeProto.Builder a =
                Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    /** A float32 graph input or output of {@code dims}, the first dimension the batch (symbolic). */
    private static Onnx.ValueInfoProto valueInfo(String name, long... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
        for (long d : dims) {
            shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return Onnx.ValueInfoProto.newBuilder()
                .setName(name)
                .setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder()
                                .setElemType(Onnx.TensorProto.DataType.FLOAT)
                                .setShape(shape)))
                .build();
    }

    void input(String name, long... dims) {
        names.add(name);
        graph.addInput(valueInfo(name, dims));
    }

    void output(String name, long... dims) {
        graph.addOutput(valueInfo(name, dims));
    }

    /** A float32 graph output of any shape (the runtime infers it). */
    void output(String name) {
        graph.addOutput(Onnx.ValueInfoProto.newBuilder()
                .setName(name)
                .setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT)))
                .build());
    }

    /**
     * The model: this graph, the default domain at {@code opset}, IR version {@code ir}, {@code metadata} as its
     * {@code metadata_props}.
     */
    byte[] model(long ir, int opset, String producer, java.util.Map<String, String> metadata) {
        Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder();
        metadata.forEach((k, v) -> m.addMetadataProps(
                Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.setIrVersion(ir)
                .setProducerName(producer)
                .addOpsetImport(
                        Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph)
                .build()
                .toByteArray();
    }
}
