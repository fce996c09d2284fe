package io.compactml.jobs;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.compactml.common.quant.FloatHistogram;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * ND4J's Kryo registrations (INDArrays inside DataSets) plus CompactML's own: {@link FloatHistogram} goes
 * through its Java serialization, which writes only its nonzero buckets. Kryo's default field serializer
 * would skip the transient counts and silently deliver an empty histogram.
 */
public final class CompactKryoRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.register(FloatHistogram.class, new JavaSerializer());
        kryo.register(FloatHistogram[].class);
    }
}
