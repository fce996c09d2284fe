package io.compactml.common.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class PruningTest {

    @Test
    void polynomialScheduleMatchesHandWorkedValues() {
        // initial 0, target 0.9, 4 steps: s = 0.9 - 0.9 * (1 - k/3)^3
        assertEquals(0.0, Pruning.scheduled(0.0, 0.9, 0, 4), 1e-12);
        assertEquals(0.9 - 0.9 * 8 / 27.0, Pruning.scheduled(0.0, 0.9, 1, 4), 1e-12);
        assertEquals(0.9 - 0.9 / 27.0, Pruning.scheduled(0.0, 0.9, 2, 4), 1e-12);
        assertEquals(0.9, Pruning.scheduled(0.0, 0.9, 3, 4), 1e-12);
        assertEquals(0.9, Pruning.scheduled(0.5, 0.9, 0, 1), 1e-12, "one step is one-shot at the target");
        assertEquals(0.9 - 0.4 / 8, Pruning.scheduled(0.5, 0.9, 1, 3), 1e-12);
    }

    @Test
    void unitScoresSumEachOutputChannel() {
        // dense [nIn = 2, nOut = 3]: c-order row by row, unit = column
        float[] dense = {1, 2, 3, 10, 20, 30};
        assertArrayEquals(new float[] {11, 22, 33}, Pruning.unitScores(dense, new long[] {2, 3}));
        // conv [nOut = 2, nIn = 1, 1, 2]: unit = first axis
        float[] conv = {1, 2, 3, 4};
        assertArrayEquals(new float[] {3, 7}, Pruning.unitScores(conv, new long[] {2, 1, 1, 2}));
        // remove half of 4 units, lowest first, ties by position; never all of them
        assertArrayEquals(new boolean[] {false, true, false, true}, Pruning.keptUnits(new float[] {1, 5, 1, 1}, 0.5));
        assertArrayEquals(new boolean[] {false, true}, Pruning.keptUnits(new float[] {1, 2}, 0.99));
    }

    @Test
    void masksZeroExactlyTheChosenWeights() {
        MultiLayerNetwork net = mlp();
        int[] layers = Pruning.weightLayers(net);
        assertArrayEquals(new int[] {0, 1, 2}, layers);
        boolean[][] masks = PruneSelection.masks(ImportanceAccumulator.magnitude(net, layers), 0.75);
        Pruning.applyMasks(net, layers, masks);
        long zeros = 0;
        long n = 0;
        for (int layer : layers) {
            INDArray w = net.getLayer(layer).getParam("W");
            zeros += Math.round(Pruning.sparsity(w) * w.length());
            n += w.length();
        }
        assertEquals(Math.round(0.75 * n), zeros);
        assertEquals(0, Pruning.maskViolations(net, layers, masks));
        net.getLayer(1).getParam("W").addi(1f);
        assertTrue(Pruning.maskViolations(net, layers, masks) > 0);
    }

    @Test
    void unknownLayersAreNamedWithTheLayersThereAre() {
        MultiLayerNetwork net = mlp();
        assertEquals(Set.of(0, 2), Pruning.resolveLayers(net, List.of("0", "layer2"), "prune.exclude-layers"));
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> Pruning.resolveLayers(net, List.of("dense9"), "prune.exclude-layers"));
        assertEquals(2, e.exitCode());
        assertTrue(
                e.getMessage().contains("'dense9'")
                        && e.getMessage().contains("prune.exclude-layers")
                        && e.getMessage().contains("1 (layer1, DenseLayer)"),
                e.getMessage());
    }

    @Test
    void removingDenseUnitsGivesTheOutputsOfTheMaskedNetwork() {
        MultiLayerNetwork net = mlp();
        boolean[] keep0 = {true, false, true, true, false, false, true, true};
        boolean[] keep1 = {false, true, true, false, true, true};
        MultiLayerNetwork smaller = Pruning.removeUnits(net, Map.of(0, keep0, 1, keep1));
        assertEquals(5 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3, smaller.numParams());

        // the masked network: removed units' incoming weights (dense columns) and biases are zero
        MultiLayerNetwork masked = net.clone();
        zeroColumns(masked.getLayer(0).getParam("W"), keep0);
        zeroColumns(masked.getLayer(0).getParam("b"), keep0);
        zeroColumns(masked.getLayer(1).getParam("W"), keep1);
        zeroColumns(masked.getLayer(1).getParam("b"), keep1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 7, 5);
        assertArrayEquals(
                masked.output(x).data().asFloat(), smaller.output(x).data().asFloat(), 1e-6f);
        // and something was really removed: the unmasked network differs
        assertTrue(net.output(x).sub(smaller.output(x)).amaxNumber().floatValue() > 1e-4);
    }

    @Test
    void removingFiltersShrinksTheNextConvolutionAndTheFlattenedDenseLayer() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new ConvolutionLayer.Builder(3, 3)
                        .nOut(3)
                        .convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU)
                        .build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2)
                        .stride(2, 2)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nOut(6)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(3)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutionalFlat(8, 8, 2))
                .build());
        net.init();
        // small positive biases keep ReLU units alive, so that removing a unit changes the outputs
        for (int layer : new int[] {0, 2, 4}) {
            net.getLayer(layer)
                    .getParam("b")
                    .assign(Nd4j.rand(
                                    DataType.FLOAT,
                                    1,
                                    net.getLayer(layer).getParam("b").length())
                            .muli(0.1));
        }
        boolean[] filters0 = {true, false, true, true};
        boolean[] filters2 = {false, true, true};
        boolean[] dense4 = {true, true, false, true, false, true};
        MultiLayerNetwork smaller = Pruning.removeUnits(net, Map.of(0, filters0, 2, filters2, 4, dense4));
        // conv0 3x(2x3x3)+3, conv2 2x(3x3x3)+2, dense (2 channels x 2 x 2) -> 4 (+4), output 4 -> 3 (+3)
        assertEquals(3 * 2 * 9 + 3 + 2 * 3 * 9 + 2 + 8 * 4 + 4 + 4 * 3 + 3, smaller.numParams());

        MultiLayerNetwork masked = net.clone();
        zeroFilters(masked.getLayer(0).getParam("W"), filters0);
        zeroColumns(masked.getLayer(0).getParam("b"), filters0);
        zeroFilters(masked.getLayer(2).getParam("W"), filters2);
        zeroColumns(masked.getLayer(2).getParam("b"), filters2);
        zeroColumns(masked.getLayer(4).getParam("W"), dense4);
        zeroColumns(masked.getLayer(4).getParam("b"), dense4);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 8 * 8 * 2);
        assertArrayEquals(
                masked.output(x).data().asFloat(), smaller.output(x).data().asFloat(), 1e-5f);
        assertTrue(net.output(x).sub(smaller.output(x)).amaxNumber().floatValue() > 1e-5);
    }

    private static MultiLayerNetwork mlp() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(11)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(5)
                        .nOut(8)
                        .activation(Activation.RELU)
                        .build())
                .layer(new DenseLayer.Builder()
                        .nIn(8)
                        .nOut(6)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(6)
                        .nOut(3)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        for (int layer : new int[] {0, 1}) {
            net.getLayer(layer)
                    .getParam("b")
                    .assign(Nd4j.rand(
                                    DataType.FLOAT,
                                    1,
                                    net.getLayer(layer).getParam("b").length())
                            .muli(0.1));
        }
        return net;
    }

    /** Zeroes the columns (last axis) of a 2-d array whose keep flag is false. */
    private static void zeroColumns(INDArray a, boolean[] keep) {
        for (int j = 0; j < keep.length; j++) {
            if (!keep[j]) {
                a.get(NDArrayIndex.all(), NDArrayIndex.point(j)).assign(0);
            }
        }
    }

    /** Zeroes the filters (first axis) of a convolution kernel whose keep flag is false. */
    private static void zeroFilters(INDArray w, boolean[] keep) {
        for (int f = 0; f < keep.length; f++) {
            if (!keep[f]) {
                w.get(NDArrayIndex.point(f), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                        .assign(0);
            }
        }
    }
}
