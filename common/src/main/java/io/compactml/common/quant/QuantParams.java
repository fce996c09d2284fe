package io.compactml.common.quant;

import java.io.Serializable;

/**
 * Affine quantization of one tensor (or one channel): {@code q = clamp(rint(x / scale) + zeroPoint, qmin, qmax)}
 * and {@code x' = (q - zeroPoint) * scale}, with ties rounded to even ({@link Math#rint}), as ONNX QuantizeLinear
 * and PyTorch do, never {@code Math.round}.
 *
 * <p>Ranges follow the TFLite int8 specification: the represented range always includes 0 (so zero is exact,
 * as padding and ReLU need), weights are symmetric in [-127, 127] with zero point 0, activations affine in
 * [-128, 127]. Parameters are computed with PyTorch's observer formulas ({@code torch/ao/quantization/observer.py},
 * {@code _calculate_qparams}): a degenerate range (all zeros) gets the smallest scale, float32 epsilon
 * (1.1920929e-7), and zero point {@code qmin} (affine) or 0 (symmetric).
 *
 * @param scale     step between quantized levels, > 0
 * @param zeroPoint quantized value of real 0
 * @param qmin      smallest quantized value
 * @param qmax      largest quantized value
 */
public record QuantParams(float scale, int zeroPoint, int qmin, int qmax) implements Serializable {

    /** float32 machine epsilon, PyTorch's floor for a scale. */
    public static final float EPS = Math.ulp(1.0f);

    /**
     * Affine parameters for values in [min, max], widened to include 0.
     * {@code scale = (max' - min') / (qmax - qmin)}, {@code zeroPoint = clamp(qmin - rint(min' / scale))}.
     */
    public static QuantParams affine(float min, float max, int qmin, int qmax) {
        checkRange(min, max);
        float lo = Math.min(min, 0f);
        float hi = Math.max(max, 0f);
        float scale = Math.max((hi - lo) / (float) (qmax - qmin), EPS);
        int zp = qmin - (int) Math.rint(lo / scale);
        return new QuantParams(scale, Math.max(qmin, Math.min(qmax, zp)), qmin, qmax);
    }

    /**
     * Symmetric parameters for values in [-maxAbs, maxAbs]: {@code scale = maxAbs / ((qmax - qmin) / 2)}, zero
     * point 0. With the TFLite weight range [-127, 127] this is {@code maxAbs / 127}.
     */
    public static QuantParams symmetric(float maxAbs, int qmin, int qmax) {
        if (!(maxAbs >= 0) || Float.isInfinite(maxAbs)) {
            throw new IllegalArgumentException("max |x| must be finite and >= 0, got " + maxAbs);
        }
        float scale = Math.max(maxAbs / ((qmax - qmin) / 2f), EPS);
        return new QuantParams(scale, 0, qmin, qmax);
    }

    private static void checkRange(float min, float max) {
        if (!Float.isFinite(min) || !Float.isFinite(max) || min > max) {
            throw new IllegalArgumentException("range [" + min + ", " + max + "] must be finite with min <= max");
        }
    }

    public int quantize(float x) {
        // float division, as ONNX QuantizeLinear and PyTorch compute x / scale
        double q = Math.rint(x / scale) + zeroPoint;
        return (int) Math.max(qmin, Math.min(qmax, q));
    }

    public float dequantize(int q) {
        return (q - zeroPoint) * scale;
    }

    /** Quantize then dequantize: what a value becomes in int8 serving. */
    public float fakeQuantize(float x) {
        return dequantize(quantize(x));
    }

    /** Smallest real value represented. */
    public float clipMin() {
        return dequantize(qmin);
    }

    /** Largest real value represented. */
    public float clipMax() {
        return dequantize(qmax);
    }
}
