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
    void compactmlsOwnExportWithScalingAndClassNamesComesBackWithBoth() {
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = io.compactml.common.model.NetworkSpec.from(
                        io.compactml.common.config.CompactConfig.load(
                                null, List.of("network.hidden=[6]", "network.outputs=3")))
                .build(2);
        io.compactml.common.model.FeatureScaling scaling = new io.compactml.common.model.FeatureScaling(
                "standardize", new float[] {50_000f, 0.004f}, new float[] {1 / 20_000f, 500f});
        io.compactml.common.model.ClassNames names =
                new io.compactml.common.model.ClassNames(List.of("approve", "decline", "review"));
        scaling.attachTo(conf);
        names.attachTo(conf, 3);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net =
                new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(conf);
        net.init();

        org.deeplearning4j.nn.multilayer.MultiLayerNetwork back =
                OnnxImport.toNetwork(OnnxExport.of(net), "loans.onnx");
        assertEquals(scaling, io.compactml.common.model.FeatureScaling.of(back).orElseThrow());
        assertEquals(names, io.compactml.common.model.ClassNames.of(back).orElseThrow());
        org.nd4j.linalg.api.ndarray.INDArray raw =
                org.nd4j.linalg.factory.Nd4j.create(new float[][] {{70_000, 0.001f}, {30_000, 0.009f}});
        assertTrue(
                back.output(raw, false).sub(net.output(raw, false)).amaxNumber().doubleValue() < 1e-6);
    }

    @Test
    void aPytorchStyleNormalizationBeforeTheFirstLayerIsReadAsTheModelsScaling() {
        // y = ((x - [1, 2]) / [2, 4]) W, W = [[1, 0], [0, 1]]: x = [3, 10] -> [1, 2]
        OnnxGraph g = new OnnxGraph("normalized");
        g.input("input", 2);
        String centred = g.node("Sub", "sub", List.of("input", g.floats("mean", new float[] {1, 2}, 2)));
        String scaled = g.node("Div", "div", List.of(centred, g.floats("std", new float[] {2, 4}, 2)));
        String y = g.node("MatMul", "output", List.of(scaled, g.floats("W", new float[] {1, 0, 0, 1}, 2, 2)));
        g.output(y, 2);
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net =
                OnnxImport.toNetwork(g.model(8, 17, "test", java.util.Map.of()), "normalized.onnx");
        io.compactml.common.model.FeatureScaling s =
                io.compactml.common.model.FeatureScaling.of(net).orElseThrow();
        assertEquals("[1.0, 2.0]", java.util.Arrays.toString(s.shift()));
        assertEquals("[0.5, 0.25]", java.util.Arrays.toString(s.factor()));
        assertEquals(
                "[1.0, 2.0]",
                java.util.Arrays.toString(net.output(
                                org.nd4j.linalg.factory.Nd4j.create(new float[][] {{3, 10}}), false)
                        .toFloatVector()));
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
