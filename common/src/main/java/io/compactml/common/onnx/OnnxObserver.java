package io.compactml.common.onnx;

import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.FloatHistogram;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link ActivationObserver}'s pass in ONNX Runtime: the float graph of {@link OnnxExport#observing}, whose extra
 * outputs are every activation tensor, run on each minibatch, each tensor's values folded into its histogram. The
 * tensors and their numbering are {@link ActivationObserver}'s (the input after the model's feature scaling, then
 * every layer's output); the values are the runtime's, equal to DL4J's within float rounding, and the histograms
 * merge the same way ({@link ActivationObserver#merge}). One per thread or Spark partition; close it after use.
 */
public final class OnnxObserver implements AutoCloseable {
    private final OnnxSession session;
    private final List<String> outputs = new ArrayList<>();
    private final FloatHistogram[] histograms;

    /**
     * @param observing an {@link OnnxExport#observing} model of a network with {@code tensors} activation tensors
     *     (its layers + 1)
     * @param threads ONNX Runtime intra-op threads
     */
    public OnnxObserver(byte[] observing, int tensors, int threads) {
        this.session = OnnxSession.of(observing, threads);
        this.histograms = new FloatHistogram[tensors];
        for (int t = 0; t < tensors; t++) {
            outputs.add(OnnxExport.ACTIVATION + t);
            histograms[t] = new FloatHistogram();
        }
    }

    /** Runs the minibatch's features [rows, features] and adds every activation to its tensor's histogram. */
    public void observe(INDArray features) {
        session.run(
                OnnxSession.rowMajor(features),
                (int) features.rows(),
                outputs,
                (values, t) -> histograms[t].add(values, 0, values.remaining()));
    }

    public FloatHistogram[] histograms() {
        return histograms;
    }

    @Override
    public void close() {
        session.close();
    }
}
