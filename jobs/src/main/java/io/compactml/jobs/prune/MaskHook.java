package io.compactml.jobs.prune;

import io.compactml.common.prune.Pruning;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Keeps pruned weights at zero during distributed fine-tuning: after every minibatch update on every worker
 * the masks are applied again, so the weights each worker sends to parameter averaging have zeros at the
 * pruned positions, and so has their average. Travels to the executors with the training worker; the 0/1
 * mask arrays are built there once per task.
 */
final class MaskHook implements TrainingHook {
    private static final long serialVersionUID = 1L;

    private final int[] layers;
    private final boolean[][] masks;
    private transient INDArray[] arrays;

    MaskHook(int[] layers, boolean[][] masks) {
        this.layers = layers;
        this.masks = masks;
    }

    private void apply(Model model) {
        MultiLayerNetwork net = (MultiLayerNetwork) model;
        if (arrays == null) {
            arrays = new INDArray[layers.length];
            for (int t = 0; t < layers.length; t++) {
                INDArray w = net.getLayer(layers[t]).getParam("W");
                arrays[t] = Pruning.maskArray(masks[t], w.shape()).castTo(w.dataType());
            }
        }
        for (int t = 0; t < layers.length; t++) {
            net.getLayer(layers[t]).getParam("W").muli(arrays[t]);
        }
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {}

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        apply(model);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {}

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        apply(model);
    }
}
