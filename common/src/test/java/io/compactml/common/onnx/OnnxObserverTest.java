package io.compactml.common.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.monitor.WindowStatistics;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.FloatHistogram;
import java.io.IOException;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The calibration pass in ONNX Runtime against DL4J's on real Fashion-MNIST images, for an MLP and a CNN: every
 * activation tensor of {@link ActivationObserver}'s numbering is observed, with as many values, the input
 * bit-identical and the layer outputs' ranges and percentile clips equal within float rounding.
 */
class OnnxObserverTest {
    @Test
    void everyTensorHasTheValuesDl4jObserves() throws IOException {
        INDArray x = OnnxExportTest.images(600);
        for (MultiLayerNetwork net : List.of(
                OnnxExportTest.network("network.hidden=[64, 32]"),
                OnnxExportTest.network("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16"))) {
            ActivationObserver dl4j = new ActivationObserver(net);
            FloatHistogram[] ort;
            int tensors = net.getnLayers() + 1;
            try (OnnxObserver o = new OnnxObserver(OnnxExport.observing(net), tensors, 2)) {
                for (int start = 0; start < 600; start += 256) {
                    INDArray batch =
                            x.get(NDArrayIndex.interval(start, Math.min(600, start + 256)), NDArrayIndex.all());
                    dl4j.observe(batch);
                    o.observe(batch);
                }
                ort = o.histograms();
            }
            FloatHistogram[] ref = dl4j.histograms();
            String kind = net.getLayer(0).getClass().getSimpleName();
            // the MLP: input, 2 hidden, output; the CNN: input, conv, pool, conv, pool, dense, output
            assertEquals(kind.startsWith("Dense") ? 4 : 7, tensors, kind);
            // a CNN's conv output of 600 images: 600 x 4 filters x 28 x 28 ("Same" mode) values
            if (!kind.startsWith("Dense")) {
                assertEquals(600L * 4 * 28 * 28, ort[1].count(), "the first convolution's output");
            }
            assertEquals(ref[0].min(), ort[0].min(), kind + " input: the same values");
            assertEquals(ref[0].max(), ort[0].max(), kind + " input: the same values");
            for (int t = 0; t < tensors; t++) {
                String what = kind + " tensor " + t;
                assertEquals(ref[t].count(), ort[t].count(), what + ": values");
                assertEquals(0, ort[t].nanCount() + ort[t].infCount(), what);
                float scale = Math.max(1f, Math.abs(ref[t].max()));
                assertEquals(ref[t].min(), ort[t].min(), 1e-5f * scale, what + ": min");
                assertEquals(ref[t].max(), ort[t].max(), 1e-5f * scale, what + ": max");
                float[] a = CalibrationMethod.PERCENTILE.clip(ref[t], 99.99);
                float[] b = CalibrationMethod.PERCENTILE.clip(ort[t], 99.99);
                assertEquals(a[0], b[0], 1e-4f * scale, what + ": percentile clip min");
                assertEquals(a[1], b[1], 1e-4f * scale, what + ": percentile clip max");
            }
            assertTrue(ort[tensors - 1].max() <= 1f, kind + ": the output is softmax probabilities");
        }
    }

    @Test
    void monitorStatisticsInOnnxRuntimeCountTheClassesDl4jPredicts() throws IOException {
        INDArray x = OnnxExportTest.images(500);
        MultiLayerNetwork net =
                OnnxExportTest.network("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16");
        WindowStatistics.Observer dl4j = new WindowStatistics.Observer(net, 10);
        dl4j.observe(x, null);
        try (OnnxObserver o = new OnnxObserver(OnnxExport.observing(net), net.getnLayers() + 1, 1)) {
            WindowStatistics.Observer ort = new WindowStatistics.Observer(o, 10);
            ort.observe(x, null);
            assertEquals(500, ort.result().rows());
            long[] a = dl4j.result().predicted();
            long[] b = ort.result().predicted();
            int moved = 0;
            for (int c = 0; c < 10; c++) {
                moved += Math.abs(a[c] - b[c]);
            }
            // a near tie may break the other way under float rounding; an output read in the wrong order would
            // move hundreds
            assertTrue(moved <= 2, java.util.Arrays.toString(a) + " vs " + java.util.Arrays.toString(b));
            assertEquals(500L * 4 * 28 * 28, ort.result().histograms()[1].count());
        }
    }
}
