package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Hand-worked cases of the TFLite / PyTorch formulas; scales chosen as powers of two so floats are exact. */
class QuantParamsTest {

    @Test
    void affineScaleAndZeroPoint() {
        // range 63.75 over 255 steps: scale 0.25; zero point -128 - rint(-16 / 0.25) = -64
        QuantParams p = QuantParams.affine(-16f, 47.75f, -128, 127);
        assertEquals(0.25f, p.scale());
        assertEquals(-64, p.zeroPoint());
        assertEquals(-16f, p.clipMin());
        assertEquals(47.75f, p.clipMax());
    }

    @Test
    void tiesRoundToEvenNotUp() {
        QuantParams p = QuantParams.affine(-16f, 47.75f, -128, 127);
        assertEquals(-64, p.quantize(0.125f), "0.5 step rounds to 0, Math.round would give 1");
        assertEquals(-62, p.quantize(0.375f), "1.5 steps round to 2");
        assertEquals(-62, p.quantize(0.625f), "2.5 steps round to 2");
        assertEquals(-64, p.quantize(-0.125f), "-0.5 steps round to -0");
        assertEquals(-66, p.quantize(-0.375f), "-1.5 steps round to -2");
        assertEquals(127, p.quantize(1000f), "saturates");
        assertEquals(-128, p.quantize(-1000f), "saturates");
        assertEquals(0.5f, p.dequantize(-62));
    }

    @Test
    void rangeIsWidenedToIncludeZero() {
        QuantParams p = QuantParams.affine(1f, 63.75f, -128, 127);
        assertEquals(0.25f, p.scale());
        assertEquals(-128, p.zeroPoint());
        assertEquals(0f, p.fakeQuantize(0f), "zero is exact");
        QuantParams neg = QuantParams.affine(-63.75f, -1f, -128, 127);
        assertEquals(127, neg.zeroPoint());
        assertEquals(0f, neg.clipMax());
    }

    @Test
    void degenerateRangeAsPyTorch() {
        QuantParams p = QuantParams.affine(0f, 0f, -128, 127);
        assertEquals(1.1920929e-7f, p.scale(), "float32 epsilon");
        assertEquals(-128, p.zeroPoint(), "qmin - rint(0 / eps)");
        QuantParams s = QuantParams.symmetric(0f, -127, 127);
        assertEquals(1.1920929e-7f, s.scale());
        assertEquals(0, s.zeroPoint());
    }

    @Test
    void symmetricWeightsUseTheRestrictedRange() {
        // TFLite weights: [-127, 127], scale = max |w| / 127
        QuantParams p = QuantParams.symmetric(31.75f, -127, 127);
        assertEquals(0.25f, p.scale());
        assertEquals(0, p.zeroPoint());
        assertEquals(-127, p.quantize(-31.75f));
        assertEquals(-127, p.quantize(-40f), "never -128");
        assertEquals(2, p.quantize(0.625f), "2.5 steps round to even");
    }

    @Test
    void roundTripErrorIsAtMostHalfAStepInsideTheClipRange() {
        QuantParams p = QuantParams.affine(-3.3f, 7.1f, -128, 127);
        Random rnd = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            float x = p.clipMin() + rnd.nextFloat() * (p.clipMax() - p.clipMin());
            float err = Math.abs(p.fakeQuantize(x) - x);
            // half a step, plus the float rounding of x / scale
            assertTrue(err <= p.scale() / 2 + 4 * Math.ulp(x), x + " -> " + p.fakeQuantize(x));
        }
    }
}
