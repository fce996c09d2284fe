package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 4-, 2- and 1-bit weights: hand-worked levels and scales, the packed layout byte for byte, and int8 models whose
 * weights have fewer bits: smaller files that load back to the same network and run as QDQ in ONNX Runtime.
 */
class LowBitWeightsTest {

    /** One output channel of a dense layer: [nIn = values.length, nOut = 1]. */
    private static INDArray column(float... values) {
        return Nd4j.create(values, new long[] {values.length, 1}, 'c');
    }

    @Test
    void twoBitScalesMinimizeTheSquaredErrorAndBinaryIsTheSignTimesTheMeanMagnitude() {
        // ternary levels {-1, 0, 1} of w = [1, -0.2, 0.3, -0.9]: with scale s the levels are [1, 0, 0, -1] for
        // s in (0.6, 1], error (1 - s)^2 + (0.9 - s)^2 + 0.2^2 + 0.3^2, least at s = 0.95 (a clipping ratio of the
        // grid, 38 / 40); max |w| = 1 as the scale errs 0.14 against 0.135
        INDArray w = column(1f, -0.2f, 0.3f, -0.9f);
        List<QuantParams> p = WeightQuantizer.params(w, true, 2);
        assertEquals(0.95f, p.get(0).scale(), 1e-7f);
        assertArrayEquals(new byte[] {1, 0, 0, -1}, WeightQuantizer.quantize(w, p, 2));

        // 4 bits: levels in [-7, 7], ties to even (-3.5 -> -4 with scale 0.1 = 0.7 / 7, the ratio 1 of the grid)
        INDArray four = column(0.7f, -0.35f, 0.7f, -0.7f, 0.7f);
        List<QuantParams> p4 = WeightQuantizer.params(four, true, 4);
        assertEquals(0.1f, p4.get(0).scale(), 1e-7f);
        assertArrayEquals(new byte[] {7, -4, 7, -7, 7}, WeightQuantizer.quantize(four, p4, 4));

        // binary: alpha = (0.5 + 1.5 + 0 + 2) / 4 = 1, q = sign(w) with +1 for 0
        INDArray b = column(0.5f, -1.5f, 0f, 2f);
        List<QuantParams> p1 = WeightQuantizer.params(b, true, 1);
        assertEquals(1f, p1.get(0).scale());
        assertArrayEquals(new byte[] {1, -1, 1, 1}, WeightQuantizer.quantize(b, p1, 1));
        assertArrayEquals(
                new float[] {1, -1, 1, 1},
                WeightQuantizer.dequantize(new byte[] {1, -1, 1, 1}, b.shape(), new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> WeightQuantizer.params(b, true, 3));
    }

    @Test
    void packingPutsTheLowestBitsFirst() {
        // 4 bits: -7 -> 1001, 7 -> 0111: 0x79; 0 and -1 (1111): 0xF0; 3 alone: 0x03
        byte[] four = {-7, 7, 0, -1, 3};
        assertArrayEquals(new byte[] {0x79, (byte) 0xF0, 0x03}, WeightQuantizer.pack(four, 4));
        assertArrayEquals(four, WeightQuantizer.unpack(WeightQuantizer.pack(four, 4), 4, 5));
        // 2 bits: 1 -> 01, -1 -> 11, 0 -> 00, 1 -> 01: 01 00 11 01 = 0x4D; -1 alone: 0x03
        byte[] two = {1, -1, 0, 1, -1};
        assertArrayEquals(new byte[] {0x4D, 0x03}, WeightQuantizer.pack(two, 2));
        assertArrayEquals(two, WeightQuantizer.unpack(WeightQuantizer.pack(two, 2), 2, 5));
        // 1 bit: +1 -> 1, -1 -> 0: 1,0,0,1,1,1,1,0 = 0b01111001 = 0x79; then 1
        byte[] one = {1, -1, -1, 1, 1, 1, 1, -1, 1};
        assertArrayEquals(new byte[] {0x79, 0x01}, WeightQuantizer.pack(one, 1));
        assertArrayEquals(one, WeightQuantizer.unpack(WeightQuantizer.pack(one, 1), 1, 9));
    }

    @Test
    void groupWiseScalesCoverGroupSizeInputsOfEachChannel() {
        // dense [nIn 4, nOut 2], groups of 2 inputs: scales [2 groups, 2 channels] in c-order
        INDArray w = Nd4j.create(new float[][] {{1, -2}, {-0.5f, 4}, {0.25f, 8}, {-3, 1}});
        List<QuantParams> p = WeightQuantizer.params(w, true, 8, 2);
        // 8 bits: max |w| / 127 of rows 0-1 (1 and 4) and of rows 2-3 (3 and 8) of each column
        assertArrayEquals(new float[] {1 / 127f, 4 / 127f, 3 / 127f, 8 / 127f}, WeightQuantizer.scales(p), 1e-9f);
        // -2 * 127 / 4 = -63.5 and -0.5 * 127 = -63.5 -> -64 (ties to even); 0.25 * 127 / 3 = 10.58 -> 11;
        // 127 / 8 = 15.875 -> 16
        byte[] q = WeightQuantizer.quantize(w, p, 8, 2);
        assertArrayEquals(new byte[] {127, -64, -64, 127, 11, 127, -127, 16}, q);
        assertEquals(3, WeightQuantizer.scaleIndex(w.shape(), 4, 2, 7));
        assertEquals(2, WeightQuantizer.scaleIndex(w.shape(), 4, 2, 4));
        assertEquals(-64 * 4 / 127f, WeightQuantizer.dequantize(q, w.shape(), WeightQuantizer.scales(p), 2)[1]);
        // binary: the mean |w| of each group, (1 + 0.5) / 2, (2 + 4) / 2, (0.25 + 3) / 2, (8 + 1) / 2
        assertArrayEquals(
                new float[] {0.75f, 3, 1.625f, 4.5f},
                WeightQuantizer.scales(WeightQuantizer.params(w, true, 1, 2)),
                1e-7f);
        // a convolution kernel keeps one scale per filter
        INDArray kernel = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 2, 2, 2);
        assertEquals(3, WeightQuantizer.params(kernel, true, 4, 2).size());
        assertThrows(IllegalArgumentException.class, () -> WeightQuantizer.params(w, true, 4, 3));
    }

    @Test
    void groupWiseModelsStoreAScalePerGroupLoadBackAndRunInOnnxRuntime() throws Exception {
        MultiLayerNetwork net = mlp();
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 100);
        QuantParams[] acts = calibrated(net, x);
        for (int bits : new int[] {4, 2}) {
            Int8Model perChannel = Int8Model.quantize(net, acts, true, Set.of(), bits);
            Int8Model m = Int8Model.quantize(net, acts, true, 4, Set.of(), layer -> bits);
            Int8Model back = Int8Model.fromBytes(m.toBytes(), "model.int8");
            assertEquals(m.toNetwork().params(), back.toNetwork().params(), bits + " bits");
            Int8Model.Int8Weights w = back.int8Weights(0).orElseThrow();
            assertEquals(4, w.groupSize());
            // 100 inputs / 4 = 25 groups of each of the 64 channels
            assertEquals(25 * 64, w.scales().length);
            // a scale fitted to 4 weights errs less than one fitted to the channel's 100
            for (int layer = 0; layer < 3; layer++) {
                INDArray f = net.getLayer(layer).getParam("W");
                double grouped =
                        squaredError(f, back.toNetwork().getLayer(layer).getParam("W"));
                double channel =
                        squaredError(f, perChannel.toNetwork().getLayer(layer).getParam("W"));
                assertTrue(grouped < channel, bits + " bits, layer " + layer + ": " + grouped + " vs " + channel);
            }
            // the graph computes these layers in float on the dequantized weights: the same model, up to a
            // boundary value that float sums in another order round to the neighbouring level
            INDArray simulated = Int8Model.simulate(back.toNetwork(), back.activations(), x);
            try (OnnxSession s = OnnxSession.of(OnnxExport.of(back), 1)) {
                INDArray served = s.output(x);
                double meanDiff = served.sub(simulated).norm1Number().doubleValue() / served.length();
                assertTrue(meanDiff < 1e-3, bits + " bits, group-wise graph vs simulated: " + meanDiff);
                long same = served.argMax(1)
                        .eq(simulated.argMax(1))
                        .castTo(org.nd4j.linalg.api.buffer.DataType.INT)
                        .sumNumber()
                        .longValue();
                assertTrue(same >= 62, bits + " bits: " + same + " of 64 predictions the same");
            }
        }
    }

    private static double squaredError(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue();
    }

    @Test
    void aGroupSizeThatDoesNotDivideALayersInputsOrPerTensorWeightsWithGroupsAreUsageErrors() {
        MultiLayerNetwork net = mlp();
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> Int8Model.quantize(net, new QuantParams[4], true, 8, Set.of(), layer -> 4));
        assertEquals(2, e.exitCode());
        assertEquals(
                "Config key 'quantize.weight-group-size' has value '8'; allowed: a divisor of the inputs of every"
                        + " quantized dense layer (layer 0 has 100), or 0 for one scale per output channel.",
                e.getMessage());
        // layer 0 kept in float: the others (64 and 32 inputs) take groups of 8
        Int8Model.quantize(net, new QuantParams[4], true, 8, Set.of(0), layer -> 4);
        CompactMLException t = assertThrows(
                CompactMLException.class,
                () -> QuantizeSettings.from(CompactConfig.load(
                        null, List.of("quantize.weight-group-size=4", "quantize.weights=per-tensor"))));
        assertEquals(2, t.exitCode());
        assertTrue(t.getMessage().startsWith("Config key 'quantize.weight-group-size' has value '4'"), t.getMessage());
    }

    private static MultiLayerNetwork mlp() {
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(CompactConfig.load(null, List.of("network.hidden=[64, 32]", "network.outputs=10")))
                        .build(100));
        net.init();
        return net;
    }

    /** Activation parameters of every boundary from the ranges {@code x} reaches. */
    private static QuantParams[] calibrated(MultiLayerNetwork net, INDArray x) {
        ActivationObserver observer = new ActivationObserver(net);
        observer.observe(x);
        FloatHistogram[] h = observer.histograms();
        QuantParams[] acts = new QuantParams[h.length];
        for (int t = 0; t < h.length; t++) {
            acts[t] = QuantParams.affine(h[t].min(), h[t].max(), -128, 127);
        }
        return acts;
    }

    @Test
    void lowBitModelsArePackedLoadBackAndRunAsQdqInOnnxRuntime() throws Exception {
        MultiLayerNetwork net = mlp();
        INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 100);
        QuantParams[] acts = calibrated(net, x);
        long int8Size = Int8Model.quantize(net, acts, true, Set.of(), 8).toBytes().length;
        for (int bits : new int[] {4, 2, 1}) {
            Int8Model m = Int8Model.quantize(net, acts, true, Set.of(), bits);
            byte[] file = m.toBytes();
            Int8Model back = Int8Model.fromBytes(file, "model.int8");
            assertEquals(bits, back.weightBits());
            assertEquals(m.toNetwork().params(), back.toNetwork().params(), bits + " bits");
            // 100*64 + 64*32 + 32*10 = 8,768 weights: 8,768 * bits / 8 bytes instead of 8,768, plus scales and
            // biases in float (106 channels, 106 biases) and the configuration JSON, which the deflater compresses
            assertTrue(file.length < int8Size, bits + " bits: " + file.length + " vs int8 " + int8Size);
            int levels = WeightQuantizer.qmax(bits);
            Int8Model.Int8Weights w = back.int8Weights(0).orElseThrow();
            for (byte v : w.values()) {
                assertTrue(v >= -levels && v <= levels && (bits != 1 || v != 0), bits + " bits: level " + v);
            }
            INDArray simulated = Int8Model.simulate(back.toNetwork(), back.activations(), x);
            try (OnnxSession s = OnnxSession.of(OnnxExport.of(back), 1)) {
                double diff = s.output(x).sub(simulated).amaxNumber().doubleValue();
                assertTrue(diff < 1e-4, bits + " bits, QDQ graph vs simulated: " + diff);
            }
        }
    }

    @Test
    void aBitWidthOtherThan8421IsAUsageError() {
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> QuantizeSettings.from(CompactConfig.load(null, List.of("quantize.weight-bits=3"))));
        assertEquals(2, e.exitCode());
        assertEquals(
                "Config key 'quantize.weight-bits' has value '3'; allowed: 8, 4 or 2 (symmetric levels) or 1 (binary"
                        + " weights).",
                e.getMessage());
    }
}
