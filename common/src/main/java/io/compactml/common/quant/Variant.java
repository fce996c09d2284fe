package io.compactml.common.quant;

import io.compactml.common.model.ModelIO;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One way to run a model, for side-by-side evaluation: the float model ({@code payload} a model zip), int8
 * weights only ({@code payload} an {@link Int8Model} file, activations float), or simulated int8 serving
 * (int8 weights and every quantized activation boundary fake-quantized).
 */
public record Variant(String name, Kind kind, byte[] payload) implements Serializable {

    /** How {@link #payload} is run. */
    public enum Kind { FLOAT, INT8_WEIGHTS, INT8 }

    /** A loaded variant, ready to run minibatches. */
    public interface Runner {
        INDArray output(INDArray features);
    }

    public Runner load() {
        if (kind == Kind.FLOAT) {
            MultiLayerNetwork net = ModelIO.fromBytes(payload, name);
            return x -> net.output(x, false);
        }
        Int8Model m = Int8Model.fromBytes(payload, name);
        MultiLayerNetwork net = m.toNetwork();
        if (kind == Kind.INT8_WEIGHTS) {
            return x -> net.output(x, false);
        }
        QuantParams[] acts = m.activations();
        return x -> Int8Model.simulate(net, acts, x);
    }
}
