package io.compactml.common.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ImportanceAccumulatorTest {

    @Test
    void handWorkedSingleWeight() {
        // y_hat = w x with w = 2, b = 0; MSE loss (y - y_hat)^2; dL/dw = 2 (y_hat - y) x
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE)
                .list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE)
                        .nIn(1)
                        .nOut(1)
                        .activation(Activation.IDENTITY)
                        .build())
                .build());
        net.init();
        net.getLayer(0).setParam("W", Nd4j.create(new double[][] {{2}}));
        net.getLayer(0).setParam("b", Nd4j.create(new double[][] {{0}}));
        ImportanceAccumulator acc = new ImportanceAccumulator(net);
        acc.add(net, batch(1, 0), 0); // y_hat 2, y 0: g = 4, |w g| = 8, g^2 = 16
        acc.add(net, batch(1, 2), 1); // y_hat 2, y 2: g = 0
        assertEquals(4f, acc.scores(Criterion.TAYLOR, -1)[0][0], 1e-6);
        assertEquals(8f, acc.scores(Criterion.FISHER, -1)[0][0], 1e-6);
        assertEquals(16f, acc.scores(Criterion.FISHER, 0)[0][0], 1e-6);
        assertEquals(0f, acc.scores(Criterion.FISHER, 1)[0][0], 1e-6);
        assertEquals(2f, ImportanceAccumulator.magnitude(net, acc.layers())[0][0]);
    }

    private static DataSet batch(double x, double y) {
        return new DataSet(Nd4j.create(new double[][] {{x}}), Nd4j.create(new double[][] {{y}}));
    }

    @Test
    void taylorAndFisherMatchFiniteDifferenceGradients() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(DataType.DOUBLE)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(3)
                        .nOut(4)
                        .activation(Activation.TANH)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(4)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        DataSet ds = new DataSet(
                Nd4j.create(new double[][] {{0.5, -1, 2}, {1, 0.25, -0.5}}),
                Nd4j.create(new double[][] {{1, 0}, {0, 1}}));
        ImportanceAccumulator acc = new ImportanceAccumulator(net);
        acc.add(net, ds, 0);
        float[][] taylor = acc.scores(Criterion.TAYLOR, -1);
        float[][] fisher = acc.scores(Criterion.FISHER, -1);
        int[] layers = acc.layers();
        assertArrayEquals(new int[] {0, 1}, layers);
        double eps = 1e-6;
        for (int t = 0; t < layers.length; t++) {
            INDArray w = net.getLayer(layers[t]).getParam("W");
            double[] c = w.dup('c').data().asDouble();
            for (int k = 0; k < c.length; k++) {
                double g =
                        (loss(net, ds, layers[t], w, c, k, c[k] + eps) - loss(net, ds, layers[t], w, c, k, c[k] - eps))
                                / (2 * eps);
                loss(net, ds, layers[t], w, c, k, c[k]);
                assertEquals(
                        Math.abs(c[k] * g), taylor[t][k], 1e-5 + 1e-4 * Math.abs(c[k] * g), "taylor " + t + "/" + k);
                assertEquals(g * g, fisher[t][k], 1e-6 + 1e-4 * g * g, "fisher " + t + "/" + k);
            }
        }
    }

    /** The mean loss with weight k (c-order) of layer {@code layer} set to {@code value}. */
    private static double loss(
            MultiLayerNetwork net, DataSet ds, int layer, INDArray w, double[] c, int k, double value) {
        double[] v = c.clone();
        v[k] = value;
        net.getLayer(layer).setParam("W", Nd4j.create(v, w.shape(), 'c'));
        return net.score(ds);
    }

    @Test
    void mergingPartsEqualsOnePassWithinDoubleRounding() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(5)
                .list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(3)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        DataSet[] batches = new DataSet[4];
        for (int i = 0; i < 4; i++) {
            batches[i] =
                    new DataSet(Nd4j.rand(DataType.FLOAT, 5, 3), Nd4j.eye(2).getRows(i % 2, 1 - i % 2, 0, 1, 1));
        }
        ImportanceAccumulator one = new ImportanceAccumulator(net);
        ImportanceAccumulator a = new ImportanceAccumulator(net);
        ImportanceAccumulator b = new ImportanceAccumulator(net);
        for (int i = 0; i < 4; i++) {
            one.add(net, batches[i], i);
            (i < 2 ? a : b).add(net, batches[i], i);
        }
        ImportanceAccumulator merged = b.merge(a);
        assertEquals(4, merged.batches());
        float[] x = one.scores(Criterion.FISHER, -1)[0];
        float[] y = merged.scores(Criterion.FISHER, -1)[0];
        for (int k = 0; k < x.length; k++) {
            assertEquals(x[k], y[k], 1e-6 * Math.abs(x[k]));
        }
    }
}
