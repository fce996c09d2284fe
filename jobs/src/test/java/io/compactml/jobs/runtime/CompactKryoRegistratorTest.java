package io.compactml.jobs.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.prune.ChannelEntropy;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.reflect.ClassTag$;

/**
 * What a broadcast or task result goes through on a cluster's executors (in local mode a broadcast is handed over
 * as the same object, so only this round trip shows a value Kryo cannot rebuild).
 */
class CompactKryoRegistratorTest {
    private final SerializerInstance kryo = new KryoSerializer(
                    new SparkConf().set("spark.kryo.registrator", CompactKryoRegistrator.class.getName()))
            .newInstance();

    @SuppressWarnings("unchecked")
    private <T> T roundTrip(T value) {
        return (T) kryo.deserialize(kryo.serialize(value, ClassTag$.MODULE$.AnyRef()), ClassTag$.MODULE$.AnyRef());
    }

    @Test
    void unmodifiableJdkCollectionsSurvive() {
        assertEquals(List.of(1), roundTrip(List.of(1)));
        assertEquals(List.of(1, 2, 3), roundTrip(List.of(1, 2, 3)));
        assertEquals(Map.of("a", 1.0, "b", 2.0), roundTrip(Map.of("a", 1.0, "b", 2.0)));
        assertEquals(List.of("x", "y"), roundTrip(Arrays.asList("x", "y")));
        assertEquals(List.of(4), roundTrip(Collections.unmodifiableList(new java.util.ArrayList<>(List.of(4)))));
    }

    @Test
    void entropyHistogramsSurviveAsATaskResult() {
        MultiLayerNetwork net =
                new MultiLayerNetwork(NetworkSpec.from(CompactConfig.load(null, List.of("network.hidden=[6]")))
                        .build(5));
        net.init();
        ChannelEntropy e = new ChannelEntropy(net);
        for (int b = 0; b < 3; b++) {
            e.add(net, new DataSet(Nd4j.rand(DataType.FLOAT, 40, 5), null), b);
        }
        float[][] before = e.scores(-1);
        assertTrue(before[0][0] + before[0][1] + before[0][2] > 0, "the histograms hold values");
        ChannelEntropy back = roundTrip(e);
        assertEquals(120, back.examples());
        for (int h = -1; h < 2; h++) {
            assertArrayEquals(e.scores(h)[0], back.scores(h)[0], 0f, "half " + h);
        }
    }

    @Test
    void aBroadcastListOfVariantsSurvives() {
        byte[] zip = {1, 2, 3};
        List<Variant> back = roundTrip(List.of(new Variant("float", Variant.Kind.FLOAT, zip)));
        assertEquals("float", back.get(0).name());
        assertEquals(Variant.Kind.FLOAT, back.get(0).kind());
        assertArrayEquals(zip, back.get(0).payload());
    }
}
