package io.compactml.common.quant;

import io.compactml.common.config.CompactConfig;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * What {@code calibrate} computes ({@code calibrate.*}, and the activation type and weight granularity of
 * {@code quantize.*}, which the parameters are computed for).
 *
 * @param methods               calibration methods whose parameters are computed, in one pass
 * @param percentile            the percentile method's share of values kept, in %
 * @param maxNonfiniteFraction  the job fails when a tensor has more NaN or infinite values than this
 * @param minCoverage           a range keeping less than this share of a tensor's values is warned about
 * @param batchSize             inference minibatch size (also the alignment of minibatches to row numbers)
 * @param activations           integer type of the activations
 * @param weights               weight scales per channel or per tensor
 * @param runtime               what runs the calibration pass ({@code calibrate.runtime}): ONNX Runtime on the
 *                              float network's ONNX form (the graph that is served), or DL4J
 */
public record CalibrationSettings(
        List<CalibrationMethod> methods,
        double percentile,
        double maxNonfiniteFraction,
        double minCoverage,
        int batchSize,
        ActivationType activations,
        WeightGranularity weights,
        io.compactml.common.eval.ServingRuntime runtime) {

    public static CalibrationSettings from(CompactConfig c) {
        return new CalibrationSettings(
                c.getEnumList("calibrate.methods", CalibrationMethod.class),
                c.getDouble("calibrate.percentile"),
                c.getDouble("calibrate.max-nonfinite-fraction"),
                c.getDouble("calibrate.min-coverage"),
                c.getInt("calibrate.batch-size"),
                c.getEnum("quantize.activations", ActivationType.class),
                c.getEnum("quantize.weights", WeightGranularity.class),
                c.getEnum("calibrate.runtime", io.compactml.common.eval.ServingRuntime.class));
    }

    /** These settings with {@code more} methods computed too (in declaration order, each once). */
    public CalibrationSettings withMethods(Collection<CalibrationMethod> more) {
        TreeSet<CalibrationMethod> all = new TreeSet<>(methods);
        all.addAll(more);
        return new CalibrationSettings(
                List.copyOf(all),
                percentile,
                maxNonfiniteFraction,
                minCoverage,
                batchSize,
                activations,
                weights,
                runtime);
    }
}
