package io.compactml.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.FeatureMoments;
import io.compactml.common.data.ScalingMethod;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.common.prune.SparseModel;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-feature statistics (hand-worked numbers), their merge across partitions and far from zero, and the scaling
 * stored in a network: what it computes, that every model format keeps it, and that ONNX Runtime runs it on raw rows.
 */
class FeatureScalingTest {
    private static final float[][] ROWS = {{1, 10}, {2, 10}, {3, 10}, {6, 10}};

    private static FeatureMoments moments(float[][] rows, int from, int to) {
        FeatureMoments m = new FeatureMoments(rows[0].length);
        for (int i = from; i < to; i++) {
            m.add(rows[i]);
        }
        return m;
    }

    @Test
    void momentsAreTheHandWorkedOnesAndAConstantFeatureIsCentredNotScaled() {
        FeatureMoments m = moments(ROWS, 0, 4);
        // mean (1 + 2 + 3 + 6) / 4 = 3; squared deviations 4 + 1 + 0 + 9 = 14; population variance 14 / 4 = 3.5
        assertEquals(4, m.count());
        assertEquals(3.0, m.mean(0), 1e-15);
        assertEquals(Math.sqrt(3.5), m.std(0), 1e-15);
        assertEquals(0.0, m.std(1));
        assertEquals(List.of(1), m.constantFeatures(ScalingMethod.STANDARDIZE));
        assertEquals(List.of(1), m.constantFeatures(ScalingMethod.MINMAX));

        FeatureScaling z = m.scaling(ScalingMethod.STANDARDIZE);
        assertEquals("standardize", z.method());
        assertArrayEquals(new float[] {3f, 10f}, z.shift());
        assertArrayEquals(new float[] {(float) (1 / Math.sqrt(3.5)), 1f}, z.factor());
        // (6 - 3) / sqrt(3.5) = 1.6035674; (10 - 10) * 1 = 0
        assertArrayEquals(new float[] {1.6035674f, 0f}, z.apply(new float[] {6, 10}), 1e-6f);

        FeatureScaling mm = m.scaling(ScalingMethod.MINMAX);
        assertArrayEquals(new float[] {1f, 10f}, mm.shift());
        assertArrayEquals(new float[] {0.2f, 1f}, mm.factor());
        assertArrayEquals(new float[] {0.4f, 2f}, mm.apply(new float[] {3, 12}), 1e-6f);
    }

    @Test
    void mergedPartitionsGiveTheWholeDataSetsMoments() {
        FeatureMoments whole = moments(ROWS, 0, 4);
        for (int cut = 0; cut <= 4; cut++) {
            FeatureMoments merged = moments(ROWS, 0, cut).merge(moments(ROWS, cut, 4));
            assertEquals(4, merged.count());
            for (int j = 0; j < 2; j++) {
                assertEquals(whole.mean(j), merged.mean(j), 1e-12, "cut " + cut);
                assertEquals(whole.std(j), merged.std(j), 1e-12, "cut " + cut);
                assertEquals(whole.min(j), merged.min(j));
                assertEquals(whole.max(j), merged.max(j));
            }
        }
    }

    @Test
    void aFeatureFarFromZeroKeepsItsSmallSpread() {
        // 4e6 + {0, 0.5, 1} (exact in float): population std sqrt(1/6) = 0.40824829; E[x^2] - E[x]^2 in double is
        // off by about 1e-3 here (x^2 = 1.6e13 carries 3e-3 of rounding)
        float[] values = {4e6f, 4e6f + 0.5f, 4e6f + 1f};
        FeatureMoments far = new FeatureMoments(1);
        for (float v : values) {
            far.add(new float[] {v});
        }
        assertEquals(4e6 + 0.5, far.mean(0), 1e-9);
        assertEquals(Math.sqrt(1.0 / 6), far.std(0), 1e-9);
        FeatureMoments split = new FeatureMoments(1).add(new float[] {values[0]});
        split.merge(new FeatureMoments(1).add(new float[] {values[1]}).add(new float[] {values[2]}));
        assertEquals(Math.sqrt(1.0 / 6), split.std(0), 1e-9);
    }

    private static MultiLayerNetwork mlp(FeatureScaling scaling) {
        MultiLayerConfiguration conf = NetworkSpec.from(
                        CompactConfig.load(null, List.of("network.hidden=[6]", "network.outputs=3")))
                .build(2);
        if (scaling != null) {
            scaling.attachTo(conf);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static final FeatureScaling SCALING =
            new FeatureScaling("standardize", new float[] {50_000f, 0.004f}, new float[] {1 / 20_000f, 1 / 0.002f});

    /** Raw rows: an income around 50,000 and a rate around 0.004. */
    private static INDArray raw() {
        return Nd4j.create(new float[][] {{50_000, 0.004f}, {70_000, 0.001f}, {30_000, 0.009f}, {52_000, 0.0045f}});
    }

    /** The same rows scaled by hand: (x - shift) * factor. */
    private static INDArray scaledByHand() {
        return Nd4j.create(new float[][] {{0, 0}, {1, -1.5f}, {-1, 2.5f}, {0.1f, 0.25f}});
    }

    @Test
    void theNetworkTakesRawRowsAndComputesWhatItComputesOnScaledOnes() {
        MultiLayerNetwork scaled = mlp(SCALING);
        MultiLayerNetwork plain = mlp(null);
        plain.setParams(scaled.params().dup());
        INDArray expected = plain.output(scaledByHand(), false);
        assertTrue(Transforms.abs(scaled.output(raw(), false).sub(expected))
                        .maxNumber()
                        .doubleValue()
                < 1e-5);
        // d x' / d x = factor, per feature
        INDArray eps = SCALING.backprop(
                Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 2), 2, LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(new float[] {1 / 20_000f, 500f}, eps.getRow(1).toFloatVector(), 1e-3f);
    }

    @Test
    void everyModelFormatKeepsTheScaling() {
        MultiLayerNetwork net = mlp(SCALING);
        assertEquals(
                SCALING,
                FeatureScaling.of(ModelIO.fromBytes(ModelIO.toBytes(net), "zip"))
                        .orElseThrow());
        QuantParams[] acts = new QuantParams[net.getnLayers() + 1];
        Int8Model int8 = Int8Model.quantize(net, acts, true, Set.of());
        assertEquals(
                SCALING,
                FeatureScaling.of(Int8Model.fromBytes(int8.toBytes(), "int8").toNetwork())
                        .orElseThrow());
        assertEquals(
                SCALING,
                FeatureScaling.of(
                                SparseModel.fromBytes(SparseModel.of(net, false).toBytes(), "sparse")
                                        .toNetwork())
                        .orElseThrow());
    }

    @Test
    void onnxRuntimeRunsTheScalingOnRawRowsAndInt8QuantizesTheScaledInput() {
        MultiLayerNetwork net = mlp(SCALING);
        try (OnnxSession s = OnnxSession.of(OnnxExport.of(net), 1)) {
            double diff = Transforms.abs(s.output(raw()).sub(net.output(raw(), false)))
                    .maxNumber()
                    .doubleValue();
            assertTrue(diff < 1e-5, "ONNX Runtime vs DL4J on raw rows: " + diff);
        }
        // the input the int8 model quantizes is the scaled one: its range is that of the z-scores, [-1.5, 2.5]
        ActivationObserver observer = new ActivationObserver(net);
        observer.observe(raw());
        FloatHistogram input = observer.histograms()[0];
        assertEquals(-1.5f, input.min(), 1e-5f);
        assertEquals(2.5f, input.max(), 1e-5f);
        QuantParams[] acts = new QuantParams[net.getnLayers() + 1];
        acts[0] = QuantParams.affine(-1.5f, 2.5f, -128, 127);
        Int8Model int8 = Int8Model.quantize(net, acts, true, Set.of());
        INDArray simulated = Int8Model.simulate(int8.toNetwork(), int8.activations(), raw());
        try (OnnxSession s = OnnxSession.of(OnnxExport.of(int8), 1)) {
            double diff =
                    Transforms.abs(s.output(raw()).sub(simulated)).maxNumber().doubleValue();
            assertTrue(diff < 1e-4, "QDQ graph vs simulated int8 on raw rows: " + diff);
        }
        // both features survive int8: quantized with one step of 4 / 255, the rate's z-score 0.25 is not zero
        assertTrue(Transforms.abs(simulated.getRow(3).sub(simulated.getRow(0)))
                        .maxNumber()
                        .doubleValue()
                > 0);
    }
}
