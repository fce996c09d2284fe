package io.compactml.common.quant;

import io.compactml.common.config.CompactConfig;
import java.util.List;

/**
 * How {@code quantize} builds the int8 model ({@code quantize.*}).
 *
 * @param method          the calibration method whose activation parameters are used
 * @param calibrationRun  run id of the calibration; empty means the job's own run id
 * @param floatLayers     layer indices always kept in float
 * @param maxAccuracyDrop accuracy budget in points, negative for none ({@link AccuracyBudget})
 * @param sensitivity     measure each layer quantized alone
 * @param weights         weight scales per channel or per tensor
 * @param weightBits      bits of the quantized weights: 8, 4, 2 or 1 ({@link WeightQuantizer#BITS})
 * @param weightGroupSize inputs per weight scale of a dense layer's output channel; 0: one scale per channel
 *     ({@link WeightQuantizer#params(org.nd4j.linalg.api.ndarray.INDArray, boolean, int, int)})
 * @param mixedBits       lower widths each layer may take under the accuracy budget ({@link MixedPrecision});
 *     empty: every layer at {@code weightBits}
 */
public record QuantizeSettings(
        CalibrationMethod method,
        String calibrationRun,
        List<Integer> floatLayers,
        double maxAccuracyDrop,
        boolean sensitivity,
        WeightGranularity weights,
        int weightBits,
        int weightGroupSize,
        List<Integer> mixedBits) {

    /**
     * @throws io.compactml.common.CompactMLException (usage) for a weight bit width other than 8, 4, 2 or 1, or a
     *     group size with per-tensor weights
     */
    public static QuantizeSettings from(CompactConfig c) {
        int bits = c.getInt("quantize.weight-bits");
        if (!WeightQuantizer.BITS.contains(bits)) {
            throw io.compactml.common.Errors.badConfigValue(
                    "quantize.weight-bits", bits, "8, 4 or 2 (symmetric levels) or 1 (binary weights)");
        }
        List<Integer> mixed = c.getIntList("quantize.mixed-bits");
        for (int b : mixed) {
            if (!WeightQuantizer.BITS.contains(b) || b >= bits) {
                throw io.compactml.common.Errors.badConfigValue(
                        "quantize.mixed-bits",
                        mixed,
                        "widths below quantize.weight-bits = " + bits + " among 4, 2 and 1 (e.g. [4, 2]), or []");
            }
        }
        WeightGranularity weights = c.getEnum("quantize.weights", WeightGranularity.class);
        int groupSize = c.getInt("quantize.weight-group-size");
        if (groupSize > 0 && !weights.perChannel()) {
            throw io.compactml.common.Errors.badConfigValue(
                    "quantize.weight-group-size",
                    groupSize,
                    "0 with quantize.weights = per-tensor (groups divide each output channel: set quantize.weights"
                            + " = per-channel)");
        }
        double budget = c.getDouble("quantize.max-accuracy-drop");
        if (!mixed.isEmpty() && budget < 0) {
            throw io.compactml.common.Errors.badConfigValue(
                    "quantize.mixed-bits",
                    mixed,
                    "[] without an accuracy budget, or set quantize.max-accuracy-drop (points, e.g. 1.0): the"
                            + " budget is what the per-layer widths are chosen under");
        }
        return new QuantizeSettings(
                c.getEnum("quantize.method", CalibrationMethod.class),
                c.getString("quantize.calibration-run"),
                c.getIntList("quantize.float-layers"),
                budget,
                c.getBoolean("quantize.sensitivity"),
                weights,
                bits,
                groupSize,
                mixed.stream()
                        .distinct()
                        .sorted(java.util.Comparator.reverseOrder())
                        .toList());
    }

    /** Whether the layers' bit widths are chosen under the budget ({@link MixedPrecision}). */
    public boolean mixed() {
        return !mixedBits.isEmpty();
    }

    /**
     * The settings of a plan's int8 step: its calibration method, the calibration of run {@code calibrationRun};
     * on a model other than the plan's source, no float layers (they name the source's layers).
     */
    public QuantizeSettings forStep(CalibrationMethod stepMethod, String stepCalibrationRun, boolean onSource) {
        return forStep(stepMethod, stepCalibrationRun, onSource, weightBits);
    }

    /**
     * {@link #forStep(CalibrationMethod, String, boolean)} with the step's weight bits ({@code int4:}, {@code int2:},
     * {@code binary}); the mixed widths kept are those below it.
     */
    public QuantizeSettings forStep(
            CalibrationMethod stepMethod, String stepCalibrationRun, boolean onSource, int stepBits) {
        return new QuantizeSettings(
                stepMethod,
                stepCalibrationRun,
                onSource ? floatLayers : List.of(),
                maxAccuracyDrop,
                sensitivity,
                weights,
                stepBits,
                weightGroupSize,
                mixedBits.stream().filter(b -> b < stepBits).toList());
    }

    /** These settings with weights at {@code bits}, no mixed widths (what {@code qat} trains and stores). */
    public QuantizeSettings withWeightBits(int bits) {
        return new QuantizeSettings(
                method,
                calibrationRun,
                floatLayers,
                maxAccuracyDrop,
                sensitivity,
                weights,
                bits,
                weightGroupSize,
                List.of());
    }
}
