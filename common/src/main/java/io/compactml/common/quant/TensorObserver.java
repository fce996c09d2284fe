package io.compactml.common.quant;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A forward pass that folds every activation tensor of a network ({@link ActivationObserver}'s numbering: the
 * input after the model's feature scaling, then every layer's output) into one histogram per tensor, in the
 * runtime that implements it: DL4J ({@link ActivationObserver}) or ONNX Runtime
 * ({@link io.compactml.common.onnx.OnnxObserver}). One per thread or Spark partition; close it after use.
 */
public interface TensorObserver extends AutoCloseable {
    /**
     * Runs the minibatch's features [rows, features] forward (inference mode) and adds every activation to its
     * tensor's histogram.
     *
     * @return the network's output for the minibatch, [rows, outputs]
     */
    INDArray observe(INDArray features);

    /** One histogram per tensor, in tensor order; merge partial ones with {@link ActivationObserver#merge}. */
    FloatHistogram[] histograms();

    @Override
    void close();
}
