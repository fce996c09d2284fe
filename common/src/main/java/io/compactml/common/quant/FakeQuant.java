package io.compactml.common.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Element-wise quantize-dequantize of an activation with {@link QuantParams} (ties to even, saturating). */
public final class FakeQuant {
    private FakeQuant() {
    }

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
        INDArray own = a.dataType() == DataType.FLOAT && !a.isView() ? a : a.castTo(DataType.FLOAT).dup(a.ordering());
        return own.data().asFloat();
    }
}
