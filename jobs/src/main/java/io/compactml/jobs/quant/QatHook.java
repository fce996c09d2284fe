package io.compactml.jobs.quant;

import io.compactml.common.quant.StraightThroughWeights;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Quantization-aware training on every worker: before each minibatch the weights are fake-quantized, after it the
 * float master weights take the straight-through update ({@link StraightThroughWeights}), so parameter averaging
 * averages float masters. Travels to the executors with the training worker (a fresh copy per epoch, whose weight
 * scales are those of the weights it first sees).
 */
final class QatHook implements TrainingHook {
    private static final long serialVersionUID = 1L;

    private final StraightThroughWeights weights;

    QatHook(StraightThroughWeights weights) {
        this.weights = weights;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        weights.quantize((MultiLayerNetwork) model);
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        weights.update((MultiLayerNetwork) model);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        weights.quantize((MultiLayerNetwork) model);
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        weights.update((MultiLayerNetwork) model);
    }
}
