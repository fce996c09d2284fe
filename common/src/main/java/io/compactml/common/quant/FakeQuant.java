package io.compactml.common.quant;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Element-wise quantize-dequantize of an activation with {@link QuantParams} (ties to even, saturating). */
public final class FakeQuant {
    private FakeQuant() {}

    public static INDArray apply(INDArray x, QuantParams p) {
        float[] v = floats(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = p.fakeQuantize(v[i]);
        }
        return Nd4j.create(v, x.shape(), x.ordering());
    }

    /**
     * The values of {@code a} as a new float array, in {@code a}'s ordering: one copy of its buffer, or of a
     * float copy when {@code a} is a view (whose buffer holds more than its values) or not float.
     */
    static float[] floats(INDArray a) {
        return own(a).data().asFloat();
    }

    /**
     * The values of {@code a}, in {@code a}'s ordering, as a buffer over its own memory (no copy) when it is a
     * float array that owns its buffer, else over a float copy; absolute positions [0, a.length()).
     */
    static FloatBuffer values(INDArray a) {
        INDArray own = own(a);
        FloatBuffer all = own.data().asNioFloat();
        return all.position() == 0 ? all : all.slice();
    }

    private static INDArray own(INDArray a) {
        return a.dataType() == DataType.FLOAT && !a.isView()
                ? a
                : a.castTo(DataType.FLOAT).dup(a.ordering());
    }
}
