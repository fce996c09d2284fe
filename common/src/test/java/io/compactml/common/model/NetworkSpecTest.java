package io.compactml.common.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.Task;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NetworkSpecTest {

    private static MultiLayerNetwork build(List<String> sets, int inputs) {
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(CompactConfig.load(null, sets)).build(inputs));
        net.init();
        return net;
    }

    @Test
    void shippedMlpHasTheExpectedParameterCount() {
        // 784*512+512 + 512*256+256 + 256*10+10
        MultiLayerNetwork net = build(List.of(), 784);
        assertEquals(535_818, net.numParams());
        assertEquals(784, ModelShapes.inputs(net));
        assertEquals(10, ModelShapes.outputs(net));
        assertEquals(Task.CLASSIFICATION, ModelShapes.task(net));
    }

    @Test
    void shippedCnnHasTheExpectedParameterCountAndTakesFlatImages() {
        // conv 3*3*1*32+32 = 320; conv 3*3*32*64+64 = 18,496; 28 -> 14 -> 7 after two poolings:
        // dense 7*7*64*128+128 = 401,536; output 128*10+10 = 1,290
        MultiLayerNetwork net = build(List.of("network.type=cnn"), 784);
        assertEquals(320 + 18_496 + 401_536 + 1_290, net.numParams());
        assertEquals(784, ModelShapes.inputs(net));
        INDArray out = net.output(Nd4j.rand(3, 784));
        assertArrayEquals(new long[] {3, 10}, out.shape());
        assertEquals(3.0, out.sumNumber().doubleValue(), 1e-4, "softmax rows sum to 1");
    }

    @Test
    void regressionEndsInOneIdentityOutput() {
        MultiLayerNetwork net = build(List.of("task=regression", "network.outputs=1", "network.hidden=[8]"), 3);
        assertEquals(Task.REGRESSION, ModelShapes.task(net));
        assertEquals(3 * 8 + 8 + 8 + 1, net.numParams());
    }

    @Test
    void cnnShapeMustMatchTheData() {
        CompactMLException e = assertThrows(CompactMLException.class, () -> build(List.of("network.type=cnn"), 100));
        assertEquals(2, e.exitCode());
    }

    @Test
    void modelBytesRoundTripAndCorruptBytesAreNamed() {
        MultiLayerNetwork net = build(List.of("network.hidden=[4]"), 3);
        byte[] zip = ModelIO.toBytes(net);
        MultiLayerNetwork back = ModelIO.fromBytes(zip, "mem");
        assertEquals(net.params(), back.params());
        assertArrayEquals(zip, ModelIO.toBytes(back), "equal networks, equal bytes (content-addressed sha256)");
        byte[] broken = java.util.Arrays.copyOf(zip, zip.length / 2);
        CompactMLException e = assertThrows(CompactMLException.class, () -> ModelIO.fromBytes(broken, "half.zip"));
        assertEquals(1, e.exitCode());
        assertEquals(true, e.getMessage().startsWith("Model half.zip is not a readable DL4J model zip"));
    }
}
