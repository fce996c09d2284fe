package io.compactml.common.eval;

import io.compactml.common.config.Choice;
import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxObserver;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.TensorObserver;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What runs a model when CompactML measures it ({@code evaluate.runtime}): ONNX Runtime on the model's ONNX form,
 * as a model server runs it (the default: the accuracy and latency recorded are the served model's), or DL4J on
 * the model's own format (int8 models simulated: every boundary quantized and dequantized).
 */
public enum ServingRuntime implements Choice {
    DL4J,
    ONNXRUNTIME;

    /**
     * What executors need to observe {@code net}'s activation tensors in this runtime ({@code calibrate.runtime}):
     * its DL4J {@code zip}, or its {@link OnnxExport#observing} graph; read by {@link #observer}.
     */
    public byte[] observing(MultiLayerNetwork net, byte[] zip) {
        return this == ONNXRUNTIME ? OnnxExport.observing(net) : zip;
    }

    /**
     * The observer of a network with {@code tensors} activation tensors (its layers + 1), from the bytes of
     * {@link #observing}; {@code uri} names the model in errors. ONNX Runtime gets one intra-op thread: a Spark
     * task has one core.
     */
    public TensorObserver observer(byte[] observing, String uri, int tensors) {
        return this == ONNXRUNTIME
                ? new OnnxObserver(observing, tensors, 1)
                : new ActivationObserver(ModelIO.fromBytes(observing, uri));
    }
}
