package io.compactml.common.data;

import java.io.Serializable;

/**
 * How raw feature values become network inputs. {@code divisor == 1} leaves them as stored; Fashion-MNIST's
 * pixels use 255 (inputs in [0, 1]). Kept with the data spec, so training and evaluation scale alike.
 */
public record Scaling(double divisor) implements Serializable {
    public static final Scaling NONE = new Scaling(1.0);

    public float apply(float v) {
        return divisor == 1.0 ? v : (float) (v / divisor);
    }
}
