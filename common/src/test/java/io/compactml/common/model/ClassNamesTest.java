package io.compactml.common.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.common.prune.Pruning;
import io.compactml.common.prune.SparseModel;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.util.List;
import java.util.Map;
import java.util.Set;
import onnx.Onnx;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Class names stored in a network: they change nothing it computes (forward and training), and every model format,
 * structured pruning and the ONNX graph keep them.
 */
class ClassNamesTest {
    private static final ClassNames NAMES = new ClassNames(List.of("approve", "decline", "review"));

    private static MultiLayerNetwork mlp(ClassNames names) {
        MultiLayerConfiguration conf = NetworkSpec.from(
                        CompactConfig.load(null, List.of("network.hidden=[6]", "network.outputs=3")))
                .build(2);
        if (names != null) {
            names.attachTo(conf, 3);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static final INDArray X = Nd4j.create(new float[][] {{1, 2}, {-1, 0.5f}, {0, -3}});
    private static final INDArray Y = Nd4j.create(new float[][] {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}});

    @Test
    void theNamesChangeNothingTheNetworkComputesOrLearns() {
        MultiLayerNetwork named = mlp(NAMES);
        MultiLayerNetwork plain = mlp(null);
        plain.setParams(named.params().dup());
        assertEquals(plain.output(X, false), named.output(X, false));
        for (int step = 0; step < 3; step++) {
            named.fit(new DataSet(X, Y));
            plain.fit(new DataSet(X, Y));
        }
        assertEquals(plain.params(), named.params());
    }

    @Test
    void everyModelFormatPruningAndTheOnnxGraphKeepTheNames() throws Exception {
        MultiLayerNetwork net = mlp(NAMES);
        assertEquals(
                NAMES,
                ClassNames.of(ModelIO.fromBytes(ModelIO.toBytes(net), "zip")).orElseThrow());
        Int8Model int8 = Int8Model.quantize(net, new QuantParams[net.getnLayers() + 1], true, Set.of());
        assertEquals(
                NAMES,
                ClassNames.of(Int8Model.fromBytes(int8.toBytes(), "int8").toNetwork())
                        .orElseThrow());
        assertEquals(
                NAMES,
                ClassNames.of(SparseModel.fromBytes(SparseModel.of(net, false).toBytes(), "sparse")
                                .toNetwork())
                        .orElseThrow());
        MultiLayerNetwork smaller =
                Pruning.removeUnits(net, Map.of(0, new boolean[] {true, false, true, true, false, true}));
        assertEquals(NAMES, ClassNames.of(smaller).orElseThrow());

        byte[] onnx = OnnxExport.of(net);
        Onnx.ModelProto m = Onnx.ModelProto.parseFrom(onnx);
        assertEquals("class_names", m.getMetadataProps(0).getKey());
        assertEquals(
                "[\"approve\",\"decline\",\"review\"]", m.getMetadataProps(0).getValue());
        try (OnnxSession s = OnnxSession.of(onnx, 1)) {
            double diff = s.output(X).sub(net.output(X, false)).amaxNumber().doubleValue();
            assertTrue(diff < 1e-6, "ONNX Runtime vs DL4J: " + diff);
        }
    }

    @Test
    void namesThatDoNotFitTheOutputsAreRefused() {
        MultiLayerConfiguration conf = mlp(null).getLayerWiseConfigurations();
        CompactMLException e =
                assertThrows(CompactMLException.class, () -> new ClassNames(List.of("a", "b")).attachTo(conf, 3));
        assertEquals(
                "Config key 'network.outputs' has value '3'; allowed: 2, the number of distinct labels in data.train"
                        + " (a, b).",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ClassNames(List.of("a", "a")));
    }
}
