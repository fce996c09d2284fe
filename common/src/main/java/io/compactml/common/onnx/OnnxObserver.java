package io.compactml.common.onnx;

import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.FloatHistogram;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
    private final List<long[]> rowShapes;
    private final FloatHistogram[] histograms;
    // by batch size (a partition has at most two: the full minibatch and the last one): the runtime writes every
    // activation in place into direct buffers, where the histograms read it
    private final java.util.Map<Integer, OnnxSession.Bound> bound = new java.util.HashMap<>();

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
        this.rowShapes = session.rowShapes(outputs);
    }

    /**
     * Runs the minibatch's features [rows, features] and adds every activation to its tensor's histogram.
     *
     * @return the network's output for the minibatch, [rows, outputs]
     */
    public INDArray observe(INDArray features) {
        int rows = (int) features.rows();
        OnnxSession.Bound b = bound.computeIfAbsent(rows, r -> session.bind(r, outputs, rowShapes));
        b.run(OnnxSession.rowMajor(features));
        for (int t = 0; t < histograms.length; t++) {
            FloatBuffer values = b.output(t);
            histograms[t].add(values, 0, values.limit());
        }
        FloatBuffer out = b.output(histograms.length - 1);
        float[] values = new float[out.limit()];
        out.get(values);
        return Nd4j.create(values, new long[] {rows, values.length / rows}, 'c');
    }

    public FloatHistogram[] histograms() {
        return histograms;
    }

    @Override
    public void close() {
        bound.values().forEach(OnnxSession.Bound::close);
        session.close();
    }
}
