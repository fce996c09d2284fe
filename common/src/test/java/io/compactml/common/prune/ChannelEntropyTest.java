package io.compactml.common.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.model.NetworkSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class ChannelEntropyTest {

    @Test
    void entropyOfHandMadeHistogramsInBits() {
        for (int k = 0; k <= 6; k++) {
            long[] uniform = new long[64];
            for (int i = 0; i < (1 << k); i++) {
                uniform[i * (64 >> k)] = 7;
            }
            assertEquals(k, ChannelEntropy.entropyBits(uniform), 1e-12, "uniform over 2^" + k + " bins");
        }
        assertEquals(0.0, ChannelEntropy.entropyBits(new long[] {0, 0, 1000, 0}), 0.0, "one bin: a constant");
        assertEquals(0.0, ChannelEntropy.entropyBits(new long[8]), 0.0, "no values");
        // p = (1/4, 1/4, 1/2): 2 * 1/4 * 2 + 1/2 * 1 = 1.5 bits
        assertEquals(1.5, ChannelEntropy.entropyBits(new long[] {1, 1, 2}), 1e-12);
    }

    @Test
    void aChannelScoresItsValuesOverSixtyFourBinsOfItsOwnRange() {
        // 32 distinct values, equally often: 5 bits, whatever their scale
        for (float scale : new float[] {1f, 1e-3f, 1e4f}) {
            ChannelEntropy.Grid g = new ChannelEntropy.Grid();
            for (int r = 0; r < 3; r++) {
                for (int i = 0; i < 32; i++) {
                    g.add(i * scale);
                }
            }
            assertEquals(5.0, g.entropyBits(ChannelEntropy.BINS), 1e-12, "32 values x " + scale);
        }
        // half zeros, half a positive value (a ReLU that fires half the time): 1 bit
        ChannelEntropy.Grid half = new ChannelEntropy.Grid();
        for (int i = 0; i < 100; i++) {
            half.add(i % 2 == 0 ? 0f : 2.5f);
        }
        assertEquals(1.0, half.entropyBits(ChannelEntropy.BINS), 1e-12);
        // a constant, always zero, or nothing finite: 0 bits
        ChannelEntropy.Grid constant = new ChannelEntropy.Grid();
        ChannelEntropy.Grid zero = new ChannelEntropy.Grid();
        ChannelEntropy.Grid nan = new ChannelEntropy.Grid();
        for (int i = 0; i < 50; i++) {
            constant.add(-3.25f);
            zero.add(0f);
            nan.add(Float.NaN);
        }
        assertEquals(0.0, constant.entropyBits(ChannelEntropy.BINS), 0.0);
        assertEquals(0.0, zero.entropyBits(ChannelEntropy.BINS), 0.0);
        assertEquals(0.0, nan.entropyBits(ChannelEntropy.BINS), 0.0);
        // four values over [-1, 1], equally often, in bins 0, 21, 42 and 63: 2 bits
        ChannelEntropy.Grid signed = new ChannelEntropy.Grid();
        for (int i = 0; i < 40; i++) {
            signed.add(new float[] {-1f, -1f / 3, 1f / 3, 1f}[i % 4]);
        }
        assertEquals(2.0, signed.entropyBits(ChannelEntropy.BINS), 1e-12);
    }

    @Test
    void histogramsAreTheSameInAnySplitAndOrder() throws Exception {
        // ReLU-like values over many octaves, with a few large ones arriving late in one split and early in another
        Random rnd = new Random(5);
        float[] v = new float[20_000];
        for (int i = 0; i < v.length; i++) {
            double x = rnd.nextGaussian();
            v[i] = x < 0 ? 0f : (float) (x * Math.pow(10, rnd.nextInt(6) - 4));
        }
        v[123] = 3000f;
        v[19_000] = -0.75f;
        ChannelEntropy.Grid all = new ChannelEntropy.Grid();
        for (float x : v) {
            all.add(x);
        }
        for (int parts : new int[] {2, 3, 7}) {
            ChannelEntropy.Grid[] pieces = new ChannelEntropy.Grid[parts];
            for (int p = 0; p < parts; p++) {
                pieces[p] = new ChannelEntropy.Grid();
            }
            for (int i = 0; i < v.length; i++) {
                pieces[(int) ((long) i * parts / v.length)].add(v[i]);
            }
            // merged in reverse order, each piece after a Java serialization round trip (as Spark sends it)
            ChannelEntropy.Grid merged = new ChannelEntropy.Grid();
            for (int p = parts - 1; p >= 0; p--) {
                merged.merge(roundTrip(pieces[p]));
            }
            assertArrayEquals(all.counts(), merged.counts(), parts + " pieces");
            assertEquals(all.entropyBits(ChannelEntropy.BINS), merged.entropyBits(ChannelEntropy.BINS), 0.0);
        }
        // a grid that has seen only zeros merges into one at any range, and the other way round
        ChannelEntropy.Grid zeros = new ChannelEntropy.Grid();
        zeros.add(0f);
        ChannelEntropy.Grid one = new ChannelEntropy.Grid();
        one.add(1f);
        long[] a = new ChannelEntropy.Grid().merge(zeros).merge(one).counts();
        long[] b = new ChannelEntropy.Grid().merge(one).merge(zeros).counts();
        assertArrayEquals(a, b);
        assertEquals(2, java.util.Arrays.stream(a).sum());
    }

    @Test
    void aDeadChannelScoresZeroAndIsRemovedFirst() {
        // a CNN 784 -> conv 4 -> pool -> conv 6 -> pool -> dense 8 -> 10: two conv layers and one dense are scored
        MultiLayerNetwork net = new MultiLayerNetwork(NetworkSpec.from(CompactConfig.load(
                        null, List.of("network.type=cnn", "network.conv-filters=[4, 6]", "network.dense=8")))
                .build(784));
        net.init();
        ChannelEntropy probe = new ChannelEntropy(net);
        int[] layers = probe.layers();
        assertArrayEquals(new int[] {0, 2, 4}, layers);
        // filter 2 of the second convolution and neuron 5 of the dense layer never fire: ReLU of -1
        kill(net, 2, 2);
        kill(net, 4, 5);
        ChannelEntropy e = new ChannelEntropy(net);
        for (int b = 0; b < 4; b++) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 32, 784);
            e.add(net, new DataSet(x, null), b);
        }
        assertEquals(128, e.examples());
        assertEquals(4, e.batches());
        float[][] scores = e.scores(-1);
        assertEquals(4, scores[0].length);
        assertEquals(6, scores[1].length);
        assertEquals(8, scores[2].length);
        assertEquals(0f, scores[1][2], 0f);
        assertEquals(0f, scores[2][5], 0f);
        for (int t = 0; t < scores.length; t++) {
            for (int u = 0; u < scores[t].length; u++) {
                assertTrue(scores[t][u] >= 0 && scores[t][u] <= 6, "at most log2 64 bits: " + scores[t][u]);
                // every other filter sees a varying input (an untrained dense ReLU neuron may be dead on its own)
                if (t < 2 && !(t == 1 && u == 2)) {
                    assertTrue(scores[t][u] > 0, "layer " + layers[t] + " channel " + u + " varies");
                }
            }
        }
        // the fewest channels removable, one of six: the dead filter goes
        boolean[] kept = Pruning.keptUnits(scores[1], 1 / 6.0);
        assertArrayEquals(new boolean[] {true, true, false, true, true, true}, kept);
        // each half of the data (minibatches 0 and 2, 1 and 3) sees the dead channels dead too
        for (int h = 0; h < 2; h++) {
            assertEquals(0f, e.scores(h)[1][2], 0f);
            assertEquals(0f, e.scores(h)[2][5], 0f);
        }
    }

    /** Output channel {@code unit} of layer {@code layer} always gets -1 before its ReLU: its weights 0, bias -1. */
    private static void kill(MultiLayerNetwork net, int layer, int unit) {
        INDArray w = net.getLayer(layer).getParam("W");
        if (w.rank() == 4) {
            w.get(org.nd4j.linalg.indexing.NDArrayIndex.point(unit)).assign(0);
        } else {
            w.getColumn(unit).assign(0);
        }
        net.getLayer(layer).getParam("b").putScalar(unit, -1.0);
    }

    private static ChannelEntropy.Grid roundTrip(ChannelEntropy.Grid g) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(g);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (ChannelEntropy.Grid) in.readObject();
        }
    }
}
