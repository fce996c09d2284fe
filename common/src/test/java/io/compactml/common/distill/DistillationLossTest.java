package io.compactml.common.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

class DistillationLossTest {
    private static INDArray row(double... v) {
        return Nd4j.create(v, new long[] {1, v.length}, 'c');
    }

    @Test
    void classificationAtTemperatureFourMatchesHandWorkedValues() {
        // student logits s = [1, 2, 0], teacher logits t = [2, 0, 1], class 1, alpha 0.7, T 4:
        // softmax(s) = [0.2447, 0.6652, 0.0900], CE = -ln 0.6652 = 0.407606;
        // KL(softmax(t/4) || softmax(s/4)) = 0.0592936; loss = 0.7 * 16 * KL + 0.3 * CE = 0.786370
        DistillationLoss loss = new DistillationLoss(0.7, 4);
        INDArray s = row(1, 2, 0);
        INDArray labels = row(0, 1, 0, 2, 0, 1);
        assertEquals(0.7863700035734028, loss.computeScore(labels, s, new ActivationSoftmax(), null, true), 1e-12);
        // gradient: 0.7 * 4 * (softmax(s/4) - softmax(t/4)) + 0.3 * (softmax(s) - y)
        assertArrayEquals(
                new double[] {-0.1862341829511716, 0.36144275598629627, -0.17520857303512466},
                loss.computeGradient(labels, s, new ActivationSoftmax(), null)
                        .data()
                        .asDouble(),
                1e-12);
    }

    @Test
    void anExampleWithoutALabelLearnsFromTheTeacherAlone() {
        // the logits above with an all-zero hard target (unlabeled data): 0.7 * 16 * KL = 0.664088, and the
        // gradient 0.7 * 4 * (softmax(s/4) - softmax(t/4)), no pull towards any class
        DistillationLoss loss = new DistillationLoss(0.7, 4);
        INDArray s = row(1, 2, 0);
        INDArray labels = row(0, 0, 0, 2, 0, 1);
        assertEquals(0.6640882142400885, loss.computeScore(labels, s, new ActivationSoftmax(), null, true), 1e-12);
        assertArrayEquals(
                new double[] {-0.25965272426761093, 0.4618704692538497, -0.2022177449862388},
                loss.computeGradient(labels, s, new ActivationSoftmax(), null)
                        .data()
                        .asDouble(),
                1e-12);
    }

    @Test
    void regressionMixesTheTwoSquaredErrors() {
        // s = [0.5, -1], y = [1, 0], t = [0, -2], alpha 0.25: (0.25 * 1.25 + 0.75 * 1.25) / 2 = 0.625;
        // gradient 2/2 * (0.25 * (s - t) + 0.75 * (s - y)) = [-0.25, -0.5]
        DistillationLoss loss = new DistillationLoss(0.25, 3);
        INDArray s = row(0.5, -1);
        INDArray labels = row(1, 0, 0, -2);
        assertEquals(0.625, loss.computeScore(labels, s, new ActivationIdentity(), null, false), 1e-12);
        assertArrayEquals(
                new double[] {-0.25, -0.5},
                loss.computeGradient(labels, s, new ActivationIdentity(), null)
                        .data()
                        .asDouble(),
                1e-12);
    }

    @Test
    void withoutTheTeacherTermItIsDl4jCrossEntropy() {
        INDArray s = Nd4j.rand(DataType.DOUBLE, 5, 4).muli(3);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 5, 4);
        for (int i = 0; i < 5; i++) {
            y.putScalar(i, i % 4, 1.0);
        }
        INDArray labels = Nd4j.hstack(y, Nd4j.rand(DataType.DOUBLE, 5, 4));
        double expected = new LossMCXENT().computeScore(y, s, new ActivationSoftmax(), null, true);
        assertEquals(
                expected,
                new DistillationLoss(0, 2).computeScore(labels, s, new ActivationSoftmax(), null, true),
                1e-9);
    }

    @Test
    void gradientsMatchFiniteDifferencesThroughANetwork() {
        // DL4J's gradient check insists on double as the global default; restored afterwards
        DataType before = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            checkGradients();
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    private static void checkGradients() {
        for (Activation out : new Activation[] {Activation.SOFTMAX, Activation.IDENTITY}) {
            MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                    .dataType(DataType.DOUBLE)
                    .seed(5)
                    .updater(new NoOp())
                    .list()
                    .layer(new DenseLayer.Builder()
                            .nIn(4)
                            .nOut(5)
                            .activation(Activation.TANH)
                            .build())
                    .layer(new OutputLayer.Builder(new DistillationLoss(0.6, 3))
                            .nIn(5)
                            .nOut(3)
                            .activation(out)
                            .build())
                    .build();
            MultiLayerNetwork net = new MultiLayerNetwork(conf);
            net.init();
            INDArray x = Nd4j.rand(DataType.DOUBLE, 6, 4);
            INDArray y = Nd4j.zeros(DataType.DOUBLE, 6, 3);
            for (int i = 0; i < 6; i++) {
                y.putScalar(i, i % 3, 1.0);
            }
            INDArray labels = Nd4j.hstack(y, Nd4j.randn(DataType.DOUBLE, 6, 3).muli(2));
            assertTrue(
                    GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig()
                            .net(net)
                            .input(x)
                            .labels(labels)
                            .epsilon(1e-6)
                            .maxRelError(1e-5)
                            .minAbsoluteError(1e-9)),
                    out + " output");
        }
    }

    @Test
    void theLossTravelsInTheNetworkConfiguration() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .list()
                .layer(new OutputLayer.Builder(new DistillationLoss(0.3, 2.5))
                        .nIn(2)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        DistillationLoss l = (DistillationLoss) ((OutputLayer) back.getConf(0).getLayer()).getLossFn();
        assertEquals(0.3, l.getAlpha());
        assertEquals(2.5, l.getTemperature());
    }

    @Test
    void badSettingsAndShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new DistillationLoss(0.5, 0));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new DistillationLoss(0.5, 2)
                        .computeScore(row(1, 0, 0), row(1, 2, 3), new ActivationSoftmax(), null, true));
        assertTrue(e.getMessage().contains("[hard targets | teacher outputs]"), e.getMessage());
    }
}
