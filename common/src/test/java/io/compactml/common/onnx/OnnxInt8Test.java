package io.compactml.common.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.ConfigKeys;
import io.compactml.common.data.IdxFile;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The int8 QDQ export served by ONNX Runtime's integer kernels against CompactML's simulated int8 (every
 * boundary quantized and dequantized in float) on all 10,000 Fashion-MNIST test images, for a trained MLP and
 * CNN: accuracy within 0.1 point and at least 99.5 % of the predictions identical. The two differ only where
 * the runtime rounds (int32 bias, integer accumulation, requantization), so a wrong axis, scale, zero point or
 * flatten order fails it by tens of points.
 */
class OnnxInt8Test {
    private static float[][] idx(String file, int n) throws IOException {
        String uri = ConfigKeys.FMNIST + file;
        try (InputStream in = Files.newInputStream(Path.of(uri))) {
            return IdxFile.read(in, uri, 0, n);
        }
    }

    private static int[] labels(String file, int n) throws IOException {
        float[][] raw = idx(file, n);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = (int) raw[i][0];
        }
        return y;
    }

    private static MultiLayerNetwork trained(MultiLayerNetwork net, int n) throws IOException {
        INDArray x = Nd4j.create(idx("train-images-idx3-ubyte.gz", n)).divi(255f);
        int[] y = labels("train-labels-idx1-ubyte.gz", n);
        INDArray oneHot = Nd4j.zeros(n, 10);
        for (int i = 0; i < n; i++) {
            oneHot.putScalar(i, y[i], 1f);
        }
        for (int start = 0; start < n; start += 64) {
            int end = Math.min(n, start + 64);
            net.fit(new DataSet(
                    x.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()),
                    oneHot.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())));
        }
        return net;
    }

    /** Percentile (99.99 %) activation parameters from 2,000 training images; the softmax output fixed. */
    private static QuantParams[] calibrated(MultiLayerNetwork net) throws IOException {
        ActivationObserver observer = new ActivationObserver(net);
        observer.observe(Nd4j.create(idx("train-images-idx3-ubyte.gz", 2000)).divi(255f));
        FloatHistogram[] h = observer.histograms();
        QuantParams[] acts = new QuantParams[h.length];
        for (int t = 0; t < h.length; t++) {
            float[] clip = CalibrationMethod.PERCENTILE.clip(h[t], 99.99);
            acts[t] = QuantParams.affine(clip[0], clip[1], -128, 127);
        }
        acts[h.length - 1] = new QuantParams(1f / 256, -128, -128, 127);
        return acts;
    }

    private static int[] argmax(INDArray out) {
        int[] p = new int[(int) out.rows()];
        for (int i = 0; i < p.length; i++) {
            p[i] = out.getRow(i).argMax().getInt(0);
        }
        return p;
    }

    @Test
    void theRuntimesInt8MatchesSimulatedInt8OnTheTestSet() throws IOException {
        INDArray test = OnnxExportTest.images(10_000);
        int[] y = labels("t10k-labels-idx1-ubyte.gz", 10_000);
        for (MultiLayerNetwork net : List.of(
                trained(OnnxExportTest.network("network.hidden=[64]"), 10_000),
                trained(
                        OnnxExportTest.network("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16"),
                        4_000))) {
            Int8Model int8 = Int8Model.quantize(net, calibrated(net), true, Set.of());
            int[] simulated = argmax(Int8Model.simulate(int8.toNetwork(), int8.activations(), test));
            int[] served;
            try (OnnxSession s = OnnxSession.of(OnnxExport.of(int8), 2)) {
                served = argmax(s.output(test));
            }
            int same = 0;
            int rightSimulated = 0;
            int rightServed = 0;
            for (int i = 0; i < y.length; i++) {
                same += simulated[i] == served[i] ? 1 : 0;
                rightSimulated += simulated[i] == y[i] ? 1 : 0;
                rightServed += served[i] == y[i] ? 1 : 0;
            }
            String what = net.getnLayers() + "-layer network: simulated " + rightSimulated / 100.0 + " %, served "
                    + rightServed / 100.0 + " %, identical " + same / 100.0 + " %";
            System.out.println(what);
            // far above chance (10 %): the predictions carry signal, so that agreeing on them means something
            assertTrue(rightSimulated > 4000, "the network learnt something: " + what);
            assertTrue(Math.abs(rightSimulated - rightServed) <= 10, what);
            assertTrue(same >= 9950, what);
        }
    }
}
