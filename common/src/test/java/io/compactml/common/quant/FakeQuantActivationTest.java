package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The activation quantizer of QAT on hand-worked values (scales that are powers of two, so that every division is
 * exact): forward as {@link QuantParams#fakeQuantize} (ties to even, saturating), backward the clipped
 * straight-through estimator; and it travels in DL4J's JSON, as Spark ships the network to its workers.
 */
class FakeQuantActivationTest {

    private static float[] forward(FakeQuantActivation a, float... z) {
        return a.getActivation(Nd4j.createFromArray(z), true).toFloatVector();
    }

    private static float[] backward(FakeQuantActivation a, float... z) {
        INDArray ones = Nd4j.ones(DataType.FLOAT, z.length);
        return a.backprop(Nd4j.createFromArray(z), ones).getFirst().toFloatVector();
    }

    @Test
    void reluOutputOnUint8LikeLevelsSaturatesAt127point5AndPassesNoGradientThere() {
        // scale 0.5, zero point -128: levels -128..127 are the reals 0, 0.5, ..., 127.5
        FakeQuantActivation a = new FakeQuantActivation(new ActivationReLU(), new QuantParams(0.5f, -128, -128, 127));
        float[] z = {-1, 0.25f, 0.75f, 1.2f, 3, 70, 200};
        // relu: 0, .25, .75, 1.2, 3, 70, 200; / 0.5: 0, .5, 1.5, 2.4, 6, 140, 400; rint (ties to even): 0, 0, 2, 2, 6,
        // 140, 400; the last saturates at level 127 = 127.5
        assertArrayEquals(new float[] {0, 0, 1, 1, 3, 70, 127.5f}, forward(a, z), 0f);
        // relu' is 0 below 0; the quantizer passes the gradient inside [0, 127.5] only
        assertArrayEquals(new float[] {0, 1, 1, 1, 1, 1, 0}, backward(a, z), 0f);
    }

    @Test
    void symmetricRangeClipsBothSidesAndKeepsItsBounds() {
        // identity, scale 0.5, levels -4..4: the reals [-2, 2]
        FakeQuantActivation a = new FakeQuantActivation(new ActivationIdentity(), new QuantParams(0.5f, 0, -4, 4));
        float[] z = {-3, -2, -0.25f, 1.25f, 2.5f};
        // / 0.5: -6, -4, -0.5, 2.5, 5; rint: -6, -4, -0, 2, 5; clamp: -4, -4, 0, 2, 4
        assertArrayEquals(new float[] {-2, -2, 0, 1, 2}, forward(a, z), 0f);
        // the bounds themselves are inside (the estimator's indicator is clipMin <= y <= clipMax)
        assertArrayEquals(new float[] {0, 1, 1, 1, 0}, backward(a, z), 0f);
        // the same values as the serving quantizer
        QuantParams p = a.params();
        for (int i = 0; i < z.length; i++) {
            assertEquals(p.fakeQuantize(z[i]), forward(a, z[i])[0], 0f);
        }
    }

    @Test
    void travelsInTheNetworkJsonAndGivesTheSameOutputs() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(3)
                        .nOut(4)
                        .activation(
                                new FakeQuantActivation(new ActivationReLU(), new QuantParams(0.125f, -128, -128, 127)))
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(4)
                        .nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX)
                        .build())
                .build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(
                ((BaseLayer) conf.getConf(0).getLayer()).getActivationFn(),
                ((BaseLayer) back.getConf(0).getLayer()).getActivationFn());
        MultiLayerNetwork a = new MultiLayerNetwork(conf);
        a.init();
        MultiLayerNetwork b = new MultiLayerNetwork(back);
        b.init(a.params().dup(), false);
        INDArray x = Nd4j.create(new float[][] {{0.5f, -1, 2}, {1, 0.25f, -0.5f}});
        assertEquals(a.output(x), b.output(x));
        // the hidden outputs are on the grid of 0.125
        INDArray hidden = b.feedForward(x, false).get(1);
        for (float v : hidden.data().asFloat()) {
            assertEquals(Math.rint(v / 0.125), v / 0.125, 0.0, "off the grid: " + v);
        }
    }
}
