package io.compactml.serve;

import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.onnx.OnnxSignature;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

/**
 * A model small enough to work out by hand, published as CompactML publishes: {@code y = x W + b} as one ONNX
 * Gemm, x [n, 2], W [2, 3] = scale * [[1, 0, -1], [0, 1, 2]], b = [0.5, 0, 0]. For x = [1, 2] and scale 1 the
 * output is [1.5, 2, 3]; for x = [0, 0] it is [0.5, 0, 0].
 */
final class TinyModels {
    private TinyModels() {}

    static byte[] gemm(float scale) {
        float[] w = {scale, 0, -scale, 0, scale, 2 * scale};
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder()
                .setName("tiny")
                .addInitializer(floats("W", w, 2, 3))
                .addInitializer(floats("B", new float[] {0.5f, 0, 0}, 3))
                .addNode(Onnx.NodeProto.newBuilder()
                        .setOpType("Gemm")
                        .setName("gemm")
                        .addInput("input")
                        .addInput("W")
                        .addInput("B")
                        .addOutput("output"))
                .addInput(value("input", 2))
                .addOutput(value("output", 3));
        return Onnx.ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("compactml-test")
                .addOpsetImport(
                        Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(g)
                .build()
                .toByteArray();
    }

    private static Onnx.TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder()
                .setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT)
                .setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static Onnx.ValueInfoProto value(String name, long width) {
        Onnx.TensorShapeProto shape = Onnx.TensorShapeProto.newBuilder()
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(width))
                .build();
        return Onnx.ValueInfoProto.newBuilder()
                .setName(name)
                .setType(Onnx.TypeProto.newBuilder()
                        .setTensorType(Onnx.TypeProto.Tensor.newBuilder()
                                .setElemType(Onnx.TensorProto.DataType.FLOAT)
                                .setShape(shape)))
                .build();
    }

    /** Publishes {@link #gemm}({@code scale}) as {@code tiny/<version>} under {@code store}, LATEST naming it. */
    static void publish(ArtifactStore store, String version, float scale) {
        publish(store, version, scale, null);
    }

    /** {@link #publish(ArtifactStore, String, float)} with {@code classNames} in the manifest (null: none). */
    static void publish(ArtifactStore store, String version, float scale, List<String> classNames) {
        byte[] onnx = gemm(scale);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(OnnxSignature.FILE, onnx);
        store.publish(
                "tiny",
                version,
                files,
                entries -> new Manifest(
                        "tiny",
                        version,
                        "baseline",
                        "onnx",
                        "2026-12-01T00:00:00Z",
                        "test",
                        "",
                        "test",
                        Map.of(),
                        Map.of(),
                        Map.of("accuracy", 1.0),
                        List.copyOf(entries),
                        OnnxSignature.of(onnx),
                        null,
                        classNames));
    }
}
