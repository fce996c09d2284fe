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
 */
public record QuantizeSettings(
        CalibrationMethod method,
        String calibrationRun,
        List<Integer> floatLayers,
        double maxAccuracyDrop,
        boolean sensitivity,
        WeightGranularity weights,
        int weightBits) {

    /**
     * @throws io.compactml.common.CompactMLException (usage) for a weight bit width other than 8, 4, 2 or 1
     */
    public static QuantizeSettings from(CompactConfig c) {
        int bits = c.getInt("quantize.weight-bits");
        if (!WeightQuantizer.BITS.contains(bits)) {
            throw io.compactml.common.Errors.badConfigValue(
                    "quantize.weight-bits", bits, "8, 4 or 2 (symmetric levels) or 1 (binary weights)");
        }
        return new QuantizeSettings(
                c.getEnum("quantize.method", CalibrationMethod.class),
                c.getString("quantize.calibration-run"),
                c.getIntList("quantize.float-layers"),
                c.getDouble("quantize.max-accuracy-drop"),
                c.getBoolean("quantize.sensitivity"),
                c.getEnum("quantize.weights", WeightGranularity.class),
                bits);
    }

    /**
     * The settings of a plan's int8 step: its calibration method, the calibration of run {@code calibrationRun};
     * on a model other than the plan's source, no float layers (they name the source's layers).
     */
    public QuantizeSettings forStep(CalibrationMethod stepMethod, String stepCalibrationRun, boolean onSource) {
        return new QuantizeSettings(
                stepMethod,
                stepCalibrationRun,
                onSource ? floatLayers : List.of(),
                maxAccuracyDrop,
                sensitivity,
                weights,
                weightBits);
    }
}
