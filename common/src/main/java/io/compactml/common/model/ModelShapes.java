package io.compactml.common.model;

import io.compactml.common.data.Task;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;

/** What a trained network expects and produces, read from its configuration. */
public final class ModelShapes {
    private ModelShapes() {}

    /** Flat input features: nIn of the first layer, or height x width x channels for a CNN on flat input. */
    public static int inputs(MultiLayerNetwork net) {
        InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(0);
        if (pre instanceof FeedForwardToCnnPreProcessor f) {
            return (int) (f.getInputHeight() * f.getInputWidth() * f.getNumChannels());
        }
        Layer first = net.getLayerWiseConfigurations().getConf(0).getLayer();
        if (first instanceof FeedForwardLayer ff) {
            return (int) ff.getNIn();
        }
        throw new IllegalArgumentException(
                "Unsupported first layer " + first.getClass().getSimpleName());
    }

    /** Width of the output layer. */
    public static int outputs(MultiLayerNetwork net) {
        Layer last =
                net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        return (int) ((FeedForwardLayer) last).getNOut();
    }

    /** Classification when the output layer is a softmax, else regression. */
    public static Task task(MultiLayerNetwork net) {
        Layer last =
                net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        if (last instanceof BaseOutputLayer out && out.getActivationFn() instanceof ActivationSoftmax) {
            return Task.CLASSIFICATION;
        }
        return Task.REGRESSION;
    }
}
