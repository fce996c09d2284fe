package io.compactml.common.quant;

import java.io.Serializable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Signal-to-quantization-noise ratio of a model's outputs against the float model's:
 * {@code 10 log10(sum f^2 / sum (f - q)^2)} in dB over every output value (infinite when identical).
 */
public final class Sqnr implements Serializable {
    private double signal;
    private double noise;

    public void add(INDArray reference, INDArray quantized) {
        double s = reference.norm2Number().doubleValue();
        double n = reference.sub(quantized).norm2Number().doubleValue();
        signal += s * s;
        noise += n * n;
    }

    public Sqnr merge(Sqnr o) {
        Sqnr r = new Sqnr();
        r.signal = signal + o.signal;
        r.noise = noise + o.noise;
        return r;
    }

    public double db() {
        return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
    }
}
