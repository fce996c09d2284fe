package io.compactml.common.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.model.ModelIO;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class SparseModelTest {

    private static MultiLayerNetwork mlp(int in, int hidden, int out) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(7)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(in)
                        .nOut(hidden)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(hidden)
                        .nOut(out)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        return net;
    }

    /** Zeroes the 90 % of every weight tensor with the smallest |w|, exactly. */
    private static void prune(MultiLayerNetwork net, double sparsity) {
        for (int i = 0; i < net.getnLayers(); i++) {
            INDArray w = net.getLayer(i).getParam("W");
            float[] v = w.dup('c').data().asFloat();
            float[] abs = new float[v.length];
            for (int k = 0; k < v.length; k++) {
                abs[k] = Math.abs(v[k]);
            }
            boolean[] keep = PruneSelection.mask(abs, sparsity);
            for (int k = 0; k < v.length; k++) {
                v[k] = keep[k] ? v[k] : 0f;
            }
            net.getLayer(i).setParam("W", Nd4j.create(v, w.shape(), 'c'));
        }
    }

    @Test
    void floatRoundTripRestoresEveryParameterExactly() {
        MultiLayerNetwork net = mlp(20, 16, 4);
        prune(net, 0.75);
        byte[] bytes = SparseModel.of(net, false).toBytes();
        SparseModel back = SparseModel.fromBytes(bytes, "m.sparse");
        assertEquals(Math.round(0.25 * 20 * 16) + Math.round(0.25 * 16 * 4), back.nonzeroWeights());
        MultiLayerNetwork restored = back.toNetwork();
        assertArrayEquals(
                net.params().data().asFloat(), restored.params().data().asFloat());
    }

    @Test
    void int8ValuesAreWithinHalfAStepAndZerosStayZero() {
        MultiLayerNetwork net = mlp(12, 8, 3);
        prune(net, 0.5);
        MultiLayerNetwork restored =
                SparseModel.fromBytes(SparseModel.of(net, true).toBytes(), "q").toNetwork();
        for (int i = 0; i < 2; i++) {
            float[] w = net.getLayer(i).getParam("W").dup('c').data().asFloat();
            float[] r = restored.getLayer(i).getParam("W").dup('c').data().asFloat();
            long cols = net.getLayer(i).getParam("W").size(1);
            for (int k = 0; k < w.length; k++) {
                if (w[k] == 0f) {
                    assertEquals(0f, r[k]);
                } else {
                    // per-column symmetric scale: max |w| of the column / 127
                    float max = 0;
                    for (int j = (int) (k % cols); j < w.length; j += (int) cols) {
                        max = Math.max(max, Math.abs(w[j]));
                    }
                    assertTrue(Math.abs(w[k] - r[k]) <= max / 127 / 2 * 1.0001f, "weight " + k);
                }
            }
            assertArrayEquals(
                    net.getLayer(i).getParam("b").data().asFloat(),
                    restored.getLayer(i).getParam("b").data().asFloat());
        }
    }

    @Test
    void aNinetyPercentSparseModelIsAtLeastEightTimesSmallerThanTheDenseZip() {
        MultiLayerNetwork net = mlp(784, 256, 10);
        prune(net, 0.9);
        long dense = ModelIO.toBytes(mlp(784, 256, 10)).length;
        long sparse = SparseModel.of(net, false).toBytes().length;
        long int8 = SparseModel.of(net, true).toBytes().length;
        assertTrue(dense >= 8 * sparse, dense + " vs " + sparse);
        assertTrue(dense >= 20 * int8, dense + " vs int8 " + int8);
    }

    @Test
    void aCorruptFileIsRefusedNamingIt() {
        CompactMLException e =
                assertThrows(CompactMLException.class, () -> SparseModel.fromBytes(new byte[] {1, 2, 3}, "bad.sparse"));
        assertTrue(e.getMessage().contains("bad.sparse"), e.getMessage());
        assertEquals(1, e.exitCode());
    }
}
