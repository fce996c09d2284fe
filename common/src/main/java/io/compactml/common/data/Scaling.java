package io.compactml.common.data;

import java.io.Serializable;

/**
 * How the data reader turns raw feature values into what it hands the network. {@code divisor == 1} leaves them as
 * stored; Fashion-MNIST's pixels use 255 (inputs in [0, 1]). Kept with the data spec, so training and evaluation
 * scale alike. For {@code standardize} and {@code minmax} ({@link ScalingMethod#storedInModel()}) the reader passes
 * the raw values and the model scales them itself.
 *
 * @param divisor what every value is divided by (1: as stored)
 * @param method  the configured method
 */
public record Scaling(double divisor, ScalingMethod method) implements Serializable {
    public static final Scaling NONE = new Scaling(1.0, ScalingMethod.NONE);

    public float apply(float v) {
        return divisor == 1.0 ? v : (float) (v / divisor);
    }
}
