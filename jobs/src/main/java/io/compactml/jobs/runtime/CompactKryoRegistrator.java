package io.compactml.jobs.runtime;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Scaling;
import io.compactml.common.eval.Variant;
import io.compactml.common.prune.ChannelEntropy;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.QuantParams;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * ND4J's Kryo registrations (INDArrays inside DataSets) plus CompactML's own, through Java serialization:
 * {@link FloatHistogram} and {@link ChannelEntropy}, whose Java forms write only their nonzero buckets (Kryo's
 * field serializer would skip the transient counts and silently deliver empty histograms: a task result of
 * zeros), and the records that travel in broadcasts
 * and task results (Kryo 4 cannot build records: their fields are final); and the JDK's unmodifiable collections
 * ({@code List.of}, {@code Map.of}, {@code Arrays.asList}, {@code Collections.unmodifiable*}), which Kryo's
 * collection serializer rebuilds by calling {@code add} (an UnsupportedOperationException on a cluster's
 * executors; in local mode a broadcast is never deserialized, so only a real cluster shows it).
 */
public final class CompactKryoRegistrator extends Nd4jRegistrator {
    private static final String[] JDK_UNMODIFIABLE = {
        "java.util.ImmutableCollections$List12",
        "java.util.ImmutableCollections$ListN",
        "java.util.ImmutableCollections$Set12",
        "java.util.ImmutableCollections$SetN",
        "java.util.ImmutableCollections$Map1",
        "java.util.ImmutableCollections$MapN",
        "java.util.Arrays$ArrayList",
        "java.util.Collections$UnmodifiableRandomAccessList",
        "java.util.Collections$UnmodifiableList",
        "java.util.Collections$UnmodifiableSet",
        "java.util.Collections$UnmodifiableMap",
        "java.util.Collections$SingletonList",
        "java.util.Collections$EmptyList"
    };

    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.register(FloatHistogram.class, new JavaSerializer());
        kryo.register(FloatHistogram[].class);
        kryo.register(ImportanceAccumulator.class, new JavaSerializer());
        kryo.register(ChannelEntropy.class, new JavaSerializer());
        for (Class<?> record :
                new Class<?>[] {Variant.class, Variant.Kind.class, QuantParams.class, DatasetSpec.class, Scaling.class
                }) {
            kryo.register(record, new JavaSerializer());
        }
        for (String jdk : JDK_UNMODIFIABLE) {
            try {
                kryo.register(Class.forName(jdk), new JavaSerializer());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("This JDK has no " + jdk, e);
            }
        }
    }
}
