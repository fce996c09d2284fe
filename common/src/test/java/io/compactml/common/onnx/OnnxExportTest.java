package io.compactml.common.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.config.ConfigKeys;
import io.compactml.common.data.IdxFile;
import io.compactml.common.distill.TeacherOutputs;
import io.compactml.common.model.NetworkSpec;
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
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The ONNX export run by the real ONNX Runtime against DL4J on real Fashion-MNIST images: a float MLP and CNN
 * compute the same outputs (within 1e-4), an int8 model's QDQ graph is fused by the runtime into int8 kernels,
 * and an export read back is the same network.
 */
class OnnxExportTest {
    /** The first {@code n} Fashion-MNIST test images, scaled to [0, 1] as the jobs scale them: [n, 784]. */
    static INDArray images(int n) throws IOException {
        String uri = ConfigKeys.FMNIST + "t10k-images-idx3-ubyte.gz";
        try (InputStream in = Files.newInputStream(Path.of(uri))) {
            float[][] raw = IdxFile.read(in, uri, 0, n);
            return Nd4j.create(raw).divi(255f);
        }
    }

    static MultiLayerNetwork network(String... sets) {
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(CompactConfig.load(null, List.of(sets))).build(784));
        net.init();
        return net;
    }

    /** A small MLP and CNN, initialized with their seed. */
    private static List<MultiLayerNetwork> mlpAndCnn() {
        return List.of(
                network("network.hidden=[64, 32]"),
                network("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16"));
    }

    private static double maxDifference(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void theFloatMlpAndCnnComputeWhatDl4jComputes() throws IOException {
        INDArray x = images(1000);
        for (MultiLayerNetwork net : mlpAndCnn()) {
            try (OnnxSession s = OnnxSession.of(OnnxExport.of(net), 2)) {
                double diff = maxDifference(net.output(x, false), s.output(x));
                assertTrue(
                        diff <= 1e-4,
                        net.getLayerWiseConfigurations()
                                        .getConf(0)
                                        .getLayer()
                                        .getClass()
                                        .getSimpleName() + " first: max |ONNX Runtime - DL4J| = " + diff);
            }
        }
    }

    @Test
    void theLogitsGraphGivesTheOutputLayersPreActivation() throws IOException {
        INDArray x = images(1000);
        for (MultiLayerNetwork net : mlpAndCnn()) {
            INDArray dl4j = TeacherOutputs.of(net, x);
            try (OnnxSession s = OnnxSession.of(OnnxExport.logits(net), 2)) {
                INDArray onnx = Nd4j.create(TeacherOutputs.of(s, x));
                assertEquals(List.of(1000L, 10L), List.of(onnx.size(0), onnx.size(1)));
                double diff = maxDifference(dl4j, onnx);
                assertTrue(diff <= 1e-4, "max |ONNX Runtime - DL4J| logits = " + diff);
                // logits, not probabilities: their softmax is the served output, and they are not it
                assertTrue(maxDifference(Transforms.softmax(onnx), net.output(x, false)) <= 1e-5);
                assertTrue(maxDifference(onnx, net.output(x, false)) > 0.1);
            }
        }
    }

    @Test
    void anExportReadBackIsTheSameNetwork() throws IOException {
        INDArray x = images(64);
        for (MultiLayerNetwork net : List.of(
                network("network.hidden=[16]"),
                network("network.type=cnn", "network.conv-filters=[4]", "network.dense=8"))) {
            MultiLayerNetwork back = OnnxImport.toNetwork(OnnxExport.of(net), "mem");
            assertEquals(net.numParams(), back.numParams());
            assertTrue(maxDifference(net.output(x, false), back.output(x, false)) <= 1e-6);
        }
    }

    @Test
    void int8ModelsRunOnTheRuntimesInt8Kernels() {
        MultiLayerNetwork mlp = network("network.hidden=[64]");
        MultiLayerNetwork cnn = network("network.type=cnn", "network.conv-filters=[4, 8]", "network.dense=16");
        for (MultiLayerNetwork net : List.of(mlp, cnn)) {
            QuantParams[] acts = new QuantParams[net.getnLayers() + 1];
            for (int t = 0; t < acts.length; t++) {
                acts[t] = QuantParams.affine(0f, 4f, -128, 127);
            }
            acts[acts.length - 1] = new QuantParams(1f / 256, -128, -128, 127);
            List<String> ops =
                    OnnxSession.optimizedOps(OnnxExport.of(Int8Model.quantize(net, acts, true, Set.of())), 1);
            System.out.println("optimized: " + ops);
            assertTrue(
                    ops.stream().anyMatch(Set.of("QGemm", "QLinearMatMul", "MatMulInteger")::contains), ops.toString());
            if (net == cnn) {
                assertTrue(ops.contains("QLinearConv"), ops.toString());
            }
        }
    }
}
