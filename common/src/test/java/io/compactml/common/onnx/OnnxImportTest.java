package io.compactml.common.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.compactml.common.CompactMLException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Models written by another framework: two small networks PyTorch trained on Fashion-MNIST and exported with
 * {@code torch.onnx.export} (opset 13; {@code src/test/resources/onnx/make_fixtures.py} made them), read into
 * DL4J, compute the outputs PyTorch computed for the same five test images. A graph with an operator CompactML
 * has no layer for is refused with a usage error that names the node and the operator.
 */
class OnnxImportTest {
    private static byte[] resource(String name) throws IOException {
        try (InputStream in = OnnxImportTest.class.getResourceAsStream("/onnx/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void pytorchExportsComputeWhatPytorchComputed() throws IOException {
        JsonNode expected =
                new ObjectMapper().readTree(resource("pytorch-outputs.json")).get("outputs");
        INDArray x = OnnxExportTest.images(5);
        for (String name : List.of("pytorch-mlp", "pytorch-cnn")) {
            MultiLayerNetwork net = OnnxImport.toNetwork(resource(name + ".onnx"), name + ".onnx");
            INDArray out = net.output(x, false);
            JsonNode rows = expected.get(name);
            assertEquals(5, out.rows(), name);
            double worst = 0;
            for (int i = 0; i < 5; i++) {
                for (int c = 0; c < 10; c++) {
                    worst = Math.max(
                            worst,
                            Math.abs(out.getDouble(i, c) - rows.get(i).get(c).asDouble()));
                }
            }
            assertTrue(worst <= 1e-4, name + ": max |DL4J - PyTorch| = " + worst);
        }
    }

    @Test
    void thePytorchCnnIsReadAsConvolutionPoolingAndDense() throws IOException {
        MultiLayerNetwork net = OnnxImport.toNetwork(resource("pytorch-cnn.onnx"), "pytorch-cnn.onnx");
        // Conv2d(1, 4, 3): 4*9 + 4; Linear(4*14*14, 10): 784*10 + 10
        assertEquals(40 + 7850, net.numParams());
        assertEquals(
                List.of("Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Softmax"),
                OnnxImport.opTypes(resource("pytorch-cnn.onnx")));
    }

    @Test
    void anOperatorWithoutALayerIsRefusedByName() {
        OnnxGraph g = new OnnxGraph("attention");
        g.input("input", 784);
        String w = g.floats("W", new float[784 * 10], 784, 10);
        String y = g.node("MatMul", "mm", List.of("input", w));
        String n = g.node("LayerNormalization", "output", List.of(y, g.floats("gamma", new float[10], 10)));
        g.output(n, 10);
        byte[] model = g.model(8, 17, "test", java.util.Map.of());

        CompactMLException e =
                assertThrows(CompactMLException.class, () -> OnnxImport.toNetwork(model, "attention.onnx"));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("LayerNormalization"), e.getMessage());
        assertTrue(e.getMessage().contains("output.LayerNormalization"), e.getMessage());
    }

    @Test
    void bytesThatAreNotOnnxAreRefusedAsUnreadable() {
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> OnnxImport.toNetwork("not a model".getBytes(java.nio.charset.StandardCharsets.UTF_8), "x.onnx"));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("x.onnx"), e.getMessage());
    }
}
