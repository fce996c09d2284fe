package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.NetworkSpec;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class Int8ModelTest {

    private static MultiLayerNetwork net(String... sets) {
        MultiLayerNetwork n = new MultiLayerNetwork(
                NetworkSpec.from(CompactConfig.load(null, List.of(sets))).build(784));
        n.init();
        return n;
    }

    private static QuantParams[] noActivations(MultiLayerNetwork n) {
        return new QuantParams[n.getnLayers() + 1];
    }

    /** Every dequantized weight is within half its channel's step of the float weight. */
    private static void assertWithinHalfAStep(MultiLayerNetwork original, MultiLayerNetwork back) {
        for (int i = 0; i < original.getnLayers(); i++) {
            INDArray w = original.getLayer(i).getParam("W");
            if (w == null) {
                continue;
            }
            List<QuantParams> qp = WeightQuantizer.params(w, true);
            float maxStep = 0;
            for (QuantParams q : qp) {
                maxStep = Math.max(maxStep, q.scale());
            }
            double err = w.sub(back.getLayer(i).getParam("W")).amaxNumber().doubleValue();
            assertTrue(err <= maxStep / 2 * 1.0001, "layer " + i + ": " + err + " > " + maxStep / 2);
            assertEquals(original.getLayer(i).getParam("b"), back.getLayer(i).getParam("b"), "biases stay float");
        }
    }

    @Test
    void mlpRoundTripsThroughTheFileAndIsAtLeast3point9TimesSmaller() {
        MultiLayerNetwork n = net();
        Int8Model q = Int8Model.quantize(n, noActivations(n), true, Set.of());
        byte[] file = q.toBytes();
        MultiLayerNetwork back = Int8Model.fromBytes(file, "mem").toNetwork();
        assertWithinHalfAStep(n, back);
        double ratio = ModelIO.toBytes(n).length / (double) file.length;
        assertTrue(
                ratio >= 3.9,
                "int8 file " + file.length + " bytes, float zip " + ModelIO.toBytes(n).length + ": ratio " + ratio);
    }

    @Test
    void cnnKernelsAreQuantizedPerOutputChannel() {
        MultiLayerNetwork n = net("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16");
        MultiLayerNetwork back = Int8Model.fromBytes(
                        Int8Model.quantize(n, noActivations(n), true, Set.of()).toBytes(), "mem")
                .toNetwork();
        assertWithinHalfAStep(n, back);
        INDArray x = Nd4j.rand(2, 784);
        assertTrue(n.output(x).sub(back.output(x)).amaxNumber().doubleValue() < 0.05);
    }

    @Test
    void simulationWithoutActivationParametersIsTheDequantizedNetwork() {
        MultiLayerNetwork n = net("network.hidden=[16]");
        Int8Model q = Int8Model.quantize(n, noActivations(n), true, Set.of());
        MultiLayerNetwork d = q.toNetwork();
        INDArray x = Nd4j.rand(3, 784);
        assertEquals(d.output(x), Int8Model.simulate(d, q.activations(), x));
    }

    @Test
    void floatLayersKeepFloatWeightsAndFloatOutputs() {
        MultiLayerNetwork n = net("network.hidden=[16]");
        QuantParams[] acts = new QuantParams[3];
        for (int i = 0; i < acts.length; i++) {
            acts[i] = QuantParams.affine(0f, 1f, -128, 127);
        }
        Int8Model q = Int8Model.quantize(n, acts, true, Set.of(1));
        assertNull(q.activations()[2], "the float output layer's output is not quantized");
        assertEquals(n.getLayer(1).getParam("W"), q.toNetwork().getLayer(1).getParam("W"));
    }

    @Test
    void unsupportedLayersAreNamedOrKeptInFloat() {
        MultiLayerNetwork bn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(4).build())
                .layer(new BatchNormalization.Builder().nOut(4).build())
                .layer(new OutputLayer.Builder().nIn(4).nOut(2).build())
                .build());
        bn.init();
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> Int8Model.quantize(bn, new QuantParams[4], true, Set.of()));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().startsWith("Layer 1 (BatchNormalization) cannot be quantized"), e.getMessage());
        Int8Model.quantize(bn, new QuantParams[4], true, Set.of(1));
    }
}
