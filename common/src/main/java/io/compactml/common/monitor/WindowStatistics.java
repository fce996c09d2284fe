package io.compactml.common.monitor;

import io.compactml.common.onnx.OnnxObserver;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.FloatHistogram;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@code monitor} measures over a window of data, exactly mergeable across partitions: per activation tensor
 * the {@link FloatHistogram} {@code calibrate} keeps (so the same data gives the same statistics), the
 * predicted-class counts and, with labels, the correct predictions.
 */
public final class WindowStatistics implements Serializable {
    private final FloatHistogram[] histograms;
    private final long[] predicted;
    private long rows;
    private long labeled;
    private long correct;

    private WindowStatistics(FloatHistogram[] histograms, int classes) {
        this.histograms = histograms;
        this.predicted = new long[classes];
    }

    /** An observer of {@code net}'s tensors: feed it minibatches, then take {@link #result}. */
    public static final class Observer {
        private final java.util.function.UnaryOperator<INDArray> forward;
        private final WindowStatistics stats;

        /** In DL4J ({@link ActivationObserver}). */
        public Observer(MultiLayerNetwork net, int classes) {
            this(new ActivationObserver(net), classes);
        }

        private Observer(ActivationObserver activations, int classes) {
            this(activations::observe, activations.histograms(), classes);
        }

        /** In ONNX Runtime, as {@code calibrate.runtime = onnxruntime} calibrates ({@link OnnxObserver}). */
        public Observer(OnnxObserver activations, int classes) {
            this(activations::observe, activations.histograms(), classes);
        }

        private Observer(java.util.function.UnaryOperator<INDArray> forward, FloatHistogram[] histograms, int classes) {
            this.forward = forward;
            this.stats = new WindowStatistics(histograms, classes);
        }

        /**
         * One minibatch: {@code features} [rows, inputs]; {@code labels} one-hot [rows, classes], or null.
         * Predictions are the output's argmax (for a regression model, with one output, class 0).
         */
        public void observe(INDArray features, INDArray labels) {
            INDArray out = forward.apply(features);
            long n = out.rows();
            INDArray predictedClass = out.argMax(1);
            INDArray trueClass = labels == null ? null : labels.argMax(1);
            for (int r = 0; r < n; r++) {
                int p = predictedClass.getInt(r);
                if (p < stats.predicted.length) {
                    stats.predicted[p]++;
                }
                if (trueClass != null && trueClass.getInt(r) == p) {
                    stats.correct++;
                }
            }
            stats.rows += n;
            stats.labeled += trueClass == null ? 0 : n;
        }

        public WindowStatistics result() {
            return stats;
        }
    }

    /** Adds {@code o}'s counts into this one; returns this. */
    public WindowStatistics merge(WindowStatistics o) {
        ActivationObserver.merge(histograms, o.histograms);
        for (int c = 0; c < predicted.length; c++) {
            predicted[c] += o.predicted[c];
        }
        rows += o.rows;
        labeled += o.labeled;
        correct += o.correct;
        return this;
    }

    public FloatHistogram[] histograms() {
        return histograms;
    }

    /** Rows predicted as each class. */
    public long[] predicted() {
        return predicted.clone();
    }

    public long rows() {
        return rows;
    }

    /** Rows that had a label. */
    public long labeled() {
        return labeled;
    }

    /** Accuracy over the labeled rows, NaN without labels. */
    public double accuracy() {
        return labeled == 0 ? Double.NaN : correct / (double) labeled;
    }
}
