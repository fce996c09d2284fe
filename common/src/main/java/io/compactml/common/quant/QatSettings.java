package io.compactml.common.quant;

import io.compactml.common.config.CompactConfig;

/**
 * How {@code qat} fine-tunes a model with its weights fake-quantized ({@code qat.*}); the bit width, scales and
 * calibration are {@code quantize.*}'s ({@link QuantizeSettings}).
 *
 * @param epochs       passes over {@code data.train}
 * @param learningRate Adam's learning rate while fine-tuning
 * @param fakeQuantizeActivations the hidden layers' outputs fake-quantized too, with the calibrated ranges fixed
 *     ({@link FakeQuantActivation}); else only the weights
 */
public record QatSettings(int epochs, double learningRate, boolean fakeQuantizeActivations) {
    public static QatSettings from(CompactConfig c) {
        return new QatSettings(
                c.getInt("qat.epochs"),
                c.getDouble("qat.learning-rate"),
                c.getBoolean("qat.fake-quantize-activations"));
    }
}
