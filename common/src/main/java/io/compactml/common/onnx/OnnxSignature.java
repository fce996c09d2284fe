package io.compactml.common.onnx;

import java.util.ArrayList;
import java.util.List;
import onnx.Onnx;

/**
 * What an ONNX model takes and gives, as a manifest and a model server state them: its file, IR version and
 * opset, and per graph input and output the name, element type (as the KServe v2 protocol names them: FP32,
 * INT8, ...) and shape, -1 for the batch (or any symbolic) dimension.
 *
 * @param file      the model file's name in its artifact
 * @param irVersion the ONNX IR version
 * @param opset     the default domain's opset
 */
public record OnnxSignature(String file, long irVersion, long opset, List<Tensor> inputs, List<Tensor> outputs) {

    /** The model file's name next to every model CompactML makes, and in every artifact. */
    public static final String FILE = "model.onnx";

    /** One graph input or output. */
    public record Tensor(String name, String datatype, List<Long> shape) {}

    /** The signature of {@code model}'s graph (inputs that are initializers excluded). */
    public static OnnxSignature of(byte[] model) {
        Onnx.ModelProto m;
        try {
            m = Onnx.ModelProto.parseFrom(model);
        } catch (Exception e) {
            throw new IllegalArgumentException("not an ONNX model", e);
        }
        List<String> initializers = m.getGraph().getInitializerList().stream()
                .map(Onnx.TensorProto::getName)
                .toList();
        List<Tensor> in = new ArrayList<>();
        for (Onnx.ValueInfoProto v : m.getGraph().getInputList()) {
            if (!initializers.contains(v.getName())) {
                in.add(tensor(v));
            }
        }
        long opset = m.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty())
                .mapToLong(Onnx.OperatorSetIdProto::getVersion)
                .findFirst()
                .orElse(-1);
        return new OnnxSignature(
                FILE,
                m.getIrVersion(),
                opset,
                in,
                m.getGraph().getOutputList().stream().map(OnnxSignature::tensor).toList());
    }

    private static Tensor tensor(Onnx.ValueInfoProto v) {
        Onnx.TypeProto.Tensor t = v.getType().getTensorType();
        List<Long> shape = t.getShape().getDimList().stream()
                .map(d -> d.getDimValue() > 0 ? d.getDimValue() : -1L)
                .toList();
        return new Tensor(v.getName(), datatype(t.getElemType()), shape);
    }

    /** The KServe v2 / Triton name of an ONNX element type. */
    static String datatype(Onnx.TensorProto.DataType t) {
        return switch (t) {
            case FLOAT -> "FP32";
            case DOUBLE -> "FP64";
            case FLOAT16 -> "FP16";
            case INT8 -> "INT8";
            case UINT8 -> "UINT8";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case BOOL -> "BOOL";
            default -> t.name();
        };
    }
}
