package io.compactml.jobs;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Scaling;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.Variant;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * ND4J's Kryo registrations (INDArrays inside DataSets) plus CompactML's own, through Java serialization:
 * {@link FloatHistogram}, whose Java form writes only its nonzero buckets (Kryo's field serializer would skip
 * the transient counts and silently deliver an empty histogram), and the records that travel in broadcasts
 * and task results (Kryo 4 cannot build records: their fields are final).
 */
public final class CompactKryoRegistrator extends Nd4jRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        super.registerClasses(kryo);
        kryo.register(FloatHistogram.class, new JavaSerializer());
        kryo.register(FloatHistogram[].class);
        kryo.register(ImportanceAccumulator.class, new JavaSerializer());
        for (Class<?> record : new Class<?>[] {Variant.class, Variant.Kind.class, QuantParams.class,
            DatasetSpec.class, Scaling.class}) {
            kryo.register(record, new JavaSerializer());
        }
    }
}
