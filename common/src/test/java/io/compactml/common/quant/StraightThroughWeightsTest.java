package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
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
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The straight-through estimator against DL4J's own gradients: one SGD step (learning rate 1; DL4J's updater divides
 * the summed gradient by the minibatch's 3 examples) through
 * {@link StraightThroughWeights} moves the float master weights by the gradient DL4J computes at the quantized
 * weights, where they lie inside the clip range, and not at all outside it; the quantized weights are
 * {@link WeightQuantizer}'s.
 */
class StraightThroughWeightsTest {

    private static MultiLayerNetwork net() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7)
                .dataType(DataType.FLOAT)
                .updater(new Sgd(1.0))
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
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        // an outlier in every column of layer 0, so that the least-squares clipping leaves it outside the range
        INDArray w = net.getLayer(0).getParam("W");
        w.putRow(0, w.getRow(0).mul(6));
        return net;
    }

    private static final DataSet DATA = new DataSet(
            Nd4j.create(new float[][] {{0.5f, -1, 2}, {1, 0.25f, -0.5f}, {-1.5f, 1, 0}}),
            Nd4j.create(new float[][] {{1, 0}, {0, 1}, {1, 0}}));

    /** {@code w} through the file format's quantizer: levels and back. */
    private static INDArray quantizedByTheFileFormat(INDArray w, int bits) {
        List<QuantParams> p = WeightQuantizer.params(w, true, bits);
        byte[] q = WeightQuantizer.quantize(w, p, bits);
        return Nd4j.create(WeightQuantizer.dequantize(q, w.shape(), WeightQuantizer.scales(p)), w.shape(), 'c');
    }

    /** DL4J's gradient of {@code param}, per example (as the updater applies it). */
    private static INDArray gradient(MultiLayerNetwork net, String param) {
        return net.gradient().getGradientFor(param).div(DATA.numExamples());
    }

    @Test
    void oneStepMovesTheMasterByTheGradientAtTheQuantizedWeightsInsideTheClipRange() {
        for (int bits : new int[] {4, 2}) {
            MultiLayerNetwork net = net();
            INDArray[] master = {
                net.getLayer(0).getParam("W").dup(),
                net.getLayer(1).getParam("W").dup()
            };
            INDArray[] bias = {
                net.getLayer(0).getParam("b").dup(),
                net.getLayer(1).getParam("b").dup()
            };
            StraightThroughWeights ste = new StraightThroughWeights(bits, true, new int[] {0, 1});

            ste.quantize(net);
            INDArray[] quantized = new INDArray[2];
            for (int l = 0; l < 2; l++) {
                quantized[l] = quantizedByTheFileFormat(master[l], bits);
                INDArray diff = net.getLayer(l).getParam("W").sub(quantized[l]);
                assertTrue(diff.amaxNumber().doubleValue() < 1e-6, bits + " bits, layer " + l + ": " + diff);
            }

            // DL4J's gradient at the quantized weights, on a separate network
            MultiLayerNetwork reference = net.clone();
            reference.setInput(DATA.getFeatures());
            reference.setLabels(DATA.getLabels());
            reference.computeGradientAndScore();
            INDArray[] g = {gradient(reference, "0_W"), gradient(reference, "1_W")};
            INDArray[] gb = {gradient(reference, "0_b"), gradient(reference, "1_b")};

            net.fit(DATA);
            ste.update(net);
            List<QuantParams> p0 = WeightQuantizer.params(master[0], true, bits);
            int outside = 0;
            for (int l = 0; l < 2; l++) {
                List<QuantParams> p = WeightQuantizer.params(master[l], true, bits);
                INDArray expected = master[l].dup();
                for (int i = 0; i < expected.rows(); i++) {
                    for (int c = 0; c < expected.columns(); c++) {
                        float clip = p.get(c).scale() * WeightQuantizer.qmax(bits);
                        if (Math.abs(master[l].getFloat(i, c)) <= clip) {
                            expected.putScalar(i, c, master[l].getFloat(i, c) - g[l].getFloat(i, c));
                        } else {
                            outside++;
                        }
                    }
                }
                INDArray diff = net.getLayer(l).getParam("W").sub(expected);
                assertTrue(diff.amaxNumber().doubleValue() < 1e-5, bits + " bits, layer " + l + ": " + diff);
                INDArray db = net.getLayer(l).getParam("b").sub(bias[l].sub(gb[l]));
                assertTrue(db.amaxNumber().doubleValue() < 1e-6, "biases train as usual: " + db);
            }
            assertTrue(outside > 0 && outside < 20, bits + " bits: " + outside + " of 20 weights outside the clip");
            assertEquals(4, p0.size());
        }
    }

    @Test
    void binaryWeightsAreTheSignTimesTheMeanMagnitudeAndPassEveryGradient() {
        MultiLayerNetwork net = net();
        INDArray w = net.getLayer(1).getParam("W").dup();
        StraightThroughWeights ste = new StraightThroughWeights(1, true, new int[] {1});
        ste.quantize(net);
        INDArray diff = net.getLayer(1).getParam("W").sub(quantizedByTheFileFormat(w, 1));
        assertTrue(diff.amaxNumber().doubleValue() < 1e-6, diff.toString());
        MultiLayerNetwork reference = net.clone();
        reference.setInput(DATA.getFeatures());
        reference.setLabels(DATA.getLabels());
        reference.computeGradientAndScore();
        INDArray g = gradient(reference, "1_W");
        net.fit(DATA);
        ste.update(net);
        INDArray moved = net.getLayer(1).getParam("W").sub(w.sub(g));
        assertTrue(moved.amaxNumber().doubleValue() < 1e-5, moved.toString());
    }

    @Test
    void convolutionKernelsAreQuantizedPerFilterAndAStepOfNothingGivesTheMasterBack() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(11)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3)
                        .nOut(4)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(2)
                        .activation(Activation.SOFTMAX)
                        .build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutionalFlat(6, 6, 2))
                .build();
        for (int bits : new int[] {4, 2, 1}) {
            for (boolean perChannel : new boolean[] {true, false}) {
                MultiLayerNetwork net = new MultiLayerNetwork(conf.clone());
                net.init();
                INDArray[] before = {
                    net.getLayer(0).getParam("W").dup(),
                    net.getLayer(1).getParam("W").dup()
                };
                StraightThroughWeights ste = new StraightThroughWeights(bits, perChannel, new int[] {0, 1});
                ste.quantize(net);
                for (int l = 0; l < 2; l++) {
                    List<QuantParams> p = WeightQuantizer.params(before[l], perChannel, bits);
                    byte[] q = WeightQuantizer.quantize(before[l], p, bits);
                    INDArray expected = Nd4j.create(
                            WeightQuantizer.dequantize(q, before[l].shape(), WeightQuantizer.scales(p)),
                            before[l].shape(),
                            'c');
                    INDArray diff = net.getLayer(l).getParam("W").sub(expected);
                    String what = bits + " bits, per channel " + perChannel + ", layer " + l;
                    assertTrue(diff.amaxNumber().doubleValue() < 1e-6, what + ": " + diff);
                }
                // no optimizer step between the two: every weight is its master again, bit for bit
                ste.update(net);
                for (int l = 0; l < 2; l++) {
                    assertEquals(before[l], net.getLayer(l).getParam("W"), bits + " bits, layer " + l);
                }
            }
        }
    }

    @Test
    void denseWeightsWithAGroupSizeAreQuantizedPerGroupAsInTheFile() {
        for (int bits : new int[] {4, 2, 1}) {
            MultiLayerNetwork net = net();
            // the output layer [4 inputs, 2 outputs] alone: 2 groups of 2 inputs in each of its 2 channels
            INDArray[] before = {
                net.getLayer(0).getParam("W").dup(),
                net.getLayer(1).getParam("W").dup()
            };
            StraightThroughWeights ste = new StraightThroughWeights(bits, true, 2, new int[] {1});
            ste.quantize(net);
            List<QuantParams> p = WeightQuantizer.params(before[1], true, bits, 2);
            assertEquals(4, p.size());
            byte[] q = WeightQuantizer.quantize(before[1], p, bits, 2);
            INDArray expected = Nd4j.create(
                    WeightQuantizer.dequantize(q, before[1].shape(), WeightQuantizer.scales(p), 2),
                    before[1].shape(),
                    'c');
            INDArray diff = net.getLayer(1).getParam("W").sub(expected);
            assertTrue(diff.amaxNumber().doubleValue() < 1e-6, bits + " bits: " + diff);
            assertEquals(before[0], net.getLayer(0).getParam("W"), "layer 0 is not in the list");
            ste.update(net);
            assertEquals(before[1], net.getLayer(1).getParam("W"), bits + " bits");
        }
    }
}
