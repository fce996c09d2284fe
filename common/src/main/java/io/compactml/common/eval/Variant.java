package io.compactml.common.eval;

import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to run a model, for side-by-side evaluation: the float model in DL4J ({@code payload} a model zip), int8
 * weights only ({@code payload} an {@link Int8Model} file, activations float), simulated int8 serving, the QDQ form
 * (int8 weights and every quantized activation boundary quantized and dequantized, as an ONNX QDQ graph computes),
 * or an ONNX model in ONNX Runtime ({@code payload} the model, run with one intra-op thread: one per Spark task).
 */
public record Variant(String name, Kind kind, byte[] payload) implements Serializable {

    /** How {@link #payload} is run. */
    public enum Kind {
        /** A DL4J model zip, run as it is. */
        FLOAT,
        /** An int8 model's weights dequantized, activations in float. */
        WEIGHT_ONLY,
        /** An int8 model with every quantized activation boundary quantized and dequantized (simulated int8). */
        QDQ,
        /** An ONNX model, run by ONNX Runtime. */
        ONNX
    }

    /** A loaded variant, ready to run minibatches. */
    public interface Runner {
        INDArray output(INDArray features);
    }

    /** This variant under another name. */
    public Variant withName(String other) {
        return new Variant(other, kind, payload);
    }

    public Runner load() {
        if (kind == Kind.ONNX) {
            OnnxSession session = OnnxSession.of(payload, 1);
            return session::output;
        }
        if (kind == Kind.FLOAT) {
            MultiLayerNetwork net = ModelIO.fromBytes(payload, name);
            return x -> net.output(x, false);
        }
        Int8Model m = Int8Model.fromBytes(payload, name);
        MultiLayerNetwork net = m.toNetwork();
        if (kind == Kind.WEIGHT_ONLY) {
            return x -> net.output(x, false);
        }
        QuantParams[] acts = m.activations();
        return x -> Int8Model.simulate(net, acts, x);
    }
}
