package io.compactml.common.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.onnx.OnnxExport;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The Triton layout as Triton reads it: a hand-written config.pbtxt, numbered versions, republishing a no-op. */
class TritonRepositoryTest {
    private static byte[] model(long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .list()
                .layer(new DenseLayer.Builder()
                        .nIn(784)
                        .nOut(8)
                        .activation(Activation.RELU)
                        .build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(8)
                        .nOut(10)
                        .activation(Activation.SOFTMAX)
                        .build())
                .build());
        net.init();
        return OnnxExport.of(net);
    }

    @Test
    void writesTheConfigAndNumbersVersions(@TempDir Path dir) throws Exception {
        TritonRepository repo = new TritonRepository(dir.toString(), new Configuration());
        byte[] first = model(1);
        String v1 = repo.publish("fmnist-mlp-int8", first);
        assertTrue(v1.endsWith("fmnist-mlp-int8/1"), v1);
        assertArrayEquals(first, Files.readAllBytes(dir.resolve("fmnist-mlp-int8/1/model.onnx")));
        assertEquals("""
                name: "fmnist-mlp-int8"
                platform: "onnxruntime_onnx"
                max_batch_size: 256
                input [
                  { name: "input" data_type: TYPE_FP32 dims: [ 784 ] }
                ]
                output [
                  { name: "output" data_type: TYPE_FP32 dims: [ 10 ] }
                ]
                dynamic_batching { }
                version_policy: { latest { num_versions: 1 } }
                """, Files.readString(dir.resolve("fmnist-mlp-int8/config.pbtxt")));

        assertEquals(v1, repo.publish("fmnist-mlp-int8", first), "the same model again is the same version");
        String v2 = repo.publish("fmnist-mlp-int8", model(2));
        assertTrue(v2.endsWith("fmnist-mlp-int8/2"), v2);
    }
}
