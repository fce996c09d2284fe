package io.compactml.common.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Element-wise quantize-dequantize of an activation with {@link QuantParams} (ties to even, saturating). */
public final class FakeQuant {
    private FakeQuant() {
    }

    public static INDArray apply(INDArray x, QuantParams p) {
        float[] v = x.castTo(DataType.FLOAT).dup().data().asFloat();
        for (int i = 0; i < v.length; i++) {
            v[i] = p.fakeQuantize(v[i]);
        }
        return Nd4j.create(v, x.shape(), x.ordering());
    }
}
