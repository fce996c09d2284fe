package io.compactml.common.artifact;

import io.compactml.common.Errors;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.prune.SparseModel;
import io.compactml.common.quant.Int8Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The file formats CompactML writes models in: the {@code format} of a manifest and of the {@code candidates}
 * table, the file's name in an artifact, the loader a serving process uses for it in DL4J, and its ONNX form
 * ({@code model.onnx} beside it, what ONNX Runtime, Triton and KServe run). Adding a format is adding a constant
 * here.
 */
public enum ModelFormat {
    /** A DL4J {@code ModelSerializer} zip without updater state: {@code ModelSerializer.restoreMultiLayerNetwork}. */
    DL4J_ZIP("dl4j-multilayer-zip", "model.zip") {
        @Override
        public Variant load(byte[] bytes, String source) {
            ModelIO.fromBytes(bytes, source);
            return new Variant(source, Variant.Kind.FLOAT, bytes);
        }

        @Override
        public MultiLayerNetwork network(byte[] bytes, String source) {
            return ModelIO.fromBytes(bytes, source);
        }

        @Override
        public byte[] toOnnx(byte[] bytes, String source) {
            return OnnxExport.of(network(bytes, source));
        }
    },
    /** {@link Int8Model}: served in DL4J with simulated int8 activations (the QDQ variant), in ONNX as QDQ. */
    INT8("compactml-int8", "model.int8") {
        @Override
        public Variant load(byte[] bytes, String source) {
            Int8Model.fromBytes(bytes, source);
            return new Variant(source, Variant.Kind.QDQ, bytes);
        }

        @Override
        public MultiLayerNetwork network(byte[] bytes, String source) {
            return Int8Model.fromBytes(bytes, source).toNetwork();
        }

        @Override
        public byte[] toOnnx(byte[] bytes, String source) {
            return OnnxExport.of(Int8Model.fromBytes(bytes, source));
        }
    },
    /** {@link SparseModel}: restored to a DL4J network with the pruned weights at zero, served as float. */
    SPARSE("compactml-sparse", "model.sparse") {
        @Override
        public Variant load(byte[] bytes, String source) {
            return new Variant(source, Variant.Kind.FLOAT, ModelIO.toBytes(network(bytes, source)));
        }

        @Override
        public MultiLayerNetwork network(byte[] bytes, String source) {
            return SparseModel.fromBytes(bytes, source).toNetwork();
        }

        @Override
        public byte[] toOnnx(byte[] bytes, String source) {
            // the pruned weights as zeros of a dense graph: the runtime multiplies dense matrices either way
            return OnnxExport.of(network(bytes, source));
        }
    };

    private final String id;
    private final String fileName;

    ModelFormat(String id, String fileName) {
        this.id = id;
        this.fileName = fileName;
    }

    /** As written in manifests and tables, e.g. {@code compactml-int8}. */
    public String id() {
        return id;
    }

    /** The model file's name in an artifact and under {@code models.root}, e.g. {@code model.int8}. */
    public String fileName() {
        return fileName;
    }

    /**
     * The DL4J serving loader: parses {@code bytes} and returns how to run them.
     *
     * @throws io.compactml.common.CompactMLException (runtime) when the file is not readable, naming {@code source}
     */
    public abstract Variant load(byte[] bytes, String source);

    /** The DL4J network the file restores to (int8 weights dequantized, pruned weights zero). */
    public abstract MultiLayerNetwork network(byte[] bytes, String source);

    /** The model as ONNX ({@link OnnxExport}): an int8 model as QDQ, the others as float graphs. */
    public abstract byte[] toOnnx(byte[] bytes, String source);

    /** How {@code runtime} serves the file: its ONNX form in ONNX Runtime, or its own loader in DL4J. */
    public Variant serving(byte[] bytes, String source, ServingRuntime runtime) {
        return runtime == ServingRuntime.ONNXRUNTIME
                ? new Variant(source, Variant.Kind.ONNX, toOnnx(bytes, source))
                : load(bytes, source);
    }

    /**
     * The format with id {@code id}.
     *
     * @throws io.compactml.common.CompactMLException (runtime) naming {@code source} when there is none
     */
    public static ModelFormat byId(String id, String source) {
        for (ModelFormat f : values()) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        throw Errors.artifactCorrupt(source, "unknown format '" + id + "' in the manifest");
    }
}
