package io.compactml.common.quant;

import io.compactml.common.model.FeatureScaling;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The activation tensors of a network that int8 serving quantizes: the network input, then every layer's
 * output (which is the next layer's input). Tensor {@code t} is the input for {@code t = 0} and the output of
 * layer {@code t - 1} otherwise; {@link #observe} folds one minibatch into one histogram per tensor. The input of a
 * model that stores its feature scaling is the scaled one (what layer 0 reads, and what int8 quantizes).
 */
public final class ActivationObserver {
    private final MultiLayerNetwork net;
    private final FloatHistogram[] histograms;

    public ActivationObserver(MultiLayerNetwork net) {
        this.net = net;
        this.histograms = new FloatHistogram[net.getnLayers() + 1];
        for (int i = 0; i < histograms.length; i++) {
            histograms[i] = new FloatHistogram();
        }
    }

    /** Tensor names, in order: {@code input}, then {@code <layer index>:<layer type>} for each output. */
    public static List<String> tensorNames(MultiLayerNetwork net) {
        List<String> names = new ArrayList<>();
        names.add("input");
        for (int i = 0; i < net.getnLayers(); i++) {
            names.add(i + ":" + net.getLayer(i).conf().getLayer().getClass().getSimpleName());
        }
        return names;
    }

    /**
     * Runs the minibatch forward (inference mode) and adds every activation to its histogram.
     *
     * @return the network's output for the minibatch, [rows, outputs]
     */
    public INDArray observe(INDArray features) {
        List<INDArray> acts = net.feedForward(features, false);
        for (int t = 0; t < histograms.length; t++) {
            INDArray a = t == 0 ? quantizedInput(net, acts.get(0)) : acts.get(t);
            histograms[t].add(FakeQuant.values(a), 0, (int) a.length());
        }
        return acts.get(acts.size() - 1);
    }

    /**
     * The input tensor that int8 serving quantizes for raw {@code features} [rows, features]: the features after
     * the scaling the model stores ({@link FeatureScaling}: the standardized input, whose features share one range),
     * else the features themselves.
     */
    public static INDArray quantizedInput(MultiLayerNetwork net, INDArray features) {
        return FeatureScaling.of(net).map(s -> s.apply(features)).orElse(features);
    }

    public FloatHistogram[] histograms() {
        return histograms;
    }

    /** Element-wise merge of two per-tensor histogram arrays, into the first. */
    public static FloatHistogram[] merge(FloatHistogram[] a, FloatHistogram[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i].merge(b[i]);
        }
        return a;
    }
}
