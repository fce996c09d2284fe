package io.compactml.common.quant;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A layer's activation followed by the fake quantization of its output with fixed, calibrated {@link QuantParams}:
 * the activation quantizer of quantization-aware training (Jacob et al. 2018; PyTorch's {@code FakeQuantize} with a
 * frozen observer). Forward: {@code y = f(z)}, then {@code (clamp(rint(y / scale) + zeroPoint, qmin, qmax) -
 * zeroPoint) * scale}, ties to even as {@link QuantParams#fakeQuantize}. Backward, the clipped straight-through
 * estimator: {@code dL/dz = f'(z) * dL/dy'} where {@code clipMin <= y <= clipMax}, 0 where the quantizer saturated
 * (Bengio et al. 2013; the fixed-range case of PACT, Choi et al. 2018).
 *
 * <p>Any shape (the activation is element-wise). Serialized with the layer's configuration (DL4J's JSON, by class
 * name and fields), so that it travels to Spark's workers with the network; {@link #base()} is what a fine-tuned
 * model is saved with.
 */
public final class FakeQuantActivation extends BaseActivationFunction {
    private static final long serialVersionUID = 1L;

    private IActivation base;
    private float scale;
    private int zeroPoint;
    private int qmin;
    private int qmax;

    /** For DL4J's JSON deserializer. */
    private FakeQuantActivation() {}

    /**
     * @param base the layer's own activation {@code f}
     * @param p    the calibrated parameters of the layer's output
     */
    public FakeQuantActivation(IActivation base, QuantParams p) {
        this.base = base;
        this.scale = p.scale();
        this.zeroPoint = p.zeroPoint();
        this.qmin = p.qmin();
        this.qmax = p.qmax();
    }

    /** The activation before quantization. */
    public IActivation base() {
        return base;
    }

    public QuantParams params() {
        return new QuantParams(scale, zeroPoint, qmin, qmax);
    }

    /** In place on {@code in}, as DL4J's activations: {@code in} becomes the fake-quantized {@code f(in)}. */
    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        INDArray y = base.getActivation(in, training);
        y.divi(scale);
        Nd4j.getExecutioner().exec(new Rint(y, y));
        y.addi(zeroPoint);
        Transforms.max(y, qmin, false);
        Transforms.min(y, qmax, false);
        return y.subi(zeroPoint).muli(scale);
    }

    /**
     * @param in      the layer's pre-activation {@code z}
     * @param epsilon {@code dL/dy'}, same shape
     * @return {@code dL/dz} (no activation parameters)
     */
    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        INDArray y = base.getActivation(in.dup(), true);
        float lo = (qmin - zeroPoint) * scale;
        float hi = (qmax - zeroPoint) * scale;
        INDArray inside = y.gte(lo).castTo(y.dataType()).muli(y.lte(hi).castTo(y.dataType()));
        return base.backprop(in, epsilon.mul(inside));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FakeQuantActivation f
                && base.equals(f.base)
                && scale == f.scale
                && zeroPoint == f.zeroPoint
                && qmin == f.qmin
                && qmax == f.qmax;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(base, scale, zeroPoint, qmin, qmax);
    }

    @Override
    public String toString() {
        return "fakequant(" + base + ", scale=" + scale + ", zeroPoint=" + zeroPoint + ")";
    }
}
