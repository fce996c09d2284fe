package io.compactml.common.data;

import io.compactml.common.model.FeatureScaling;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-feature count, mean, sum of squared deviations, minimum and maximum of a data set's raw features, exactly what
 * {@code standardize} and {@code minmax} need, mergeable across partitions. Rows are added with Welford's update
 * and partial results combined with Chan, Golub and LeVeque's pairwise formula ("Updating formulae and a pairwise
 * algorithm for computing sample variances", 1979), in double: stable for features far from zero (a mean of 10^6
 * with a spread of 10^-2), where the naive sum of squares cancels.
 */
public final class FeatureMoments implements Serializable {
    private static final long serialVersionUID = 1L;

    private long count;
    private final double[] mean;
    private final double[] m2;
    private final double[] min;
    private final double[] max;

    /** Empty moments of {@code features} features. */
    public FeatureMoments(int features) {
        mean = new double[features];
        m2 = new double[features];
        min = new double[features];
        max = new double[features];
        java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    }

    /** Adds one row of raw features [features]. */
    public FeatureMoments add(float[] x) {
        count++;
        for (int j = 0; j < mean.length; j++) {
            double v = x[j];
            double d = v - mean[j];
            mean[j] += d / count;
            m2[j] += d * (v - mean[j]);
            min[j] = Math.min(min[j], v);
            max[j] = Math.max(max[j], v);
        }
        return this;
    }

    /** Adds {@code other} into this (Chan et al.'s pairwise update); returns this. */
    public FeatureMoments merge(FeatureMoments other) {
        if (other.count == 0) {
            return this;
        }
        long n = count + other.count;
        for (int j = 0; j < mean.length; j++) {
            double d = other.mean[j] - mean[j];
            mean[j] += d * other.count / n;
            m2[j] += other.m2[j] + d * d * ((double) count * other.count / n);
            min[j] = Math.min(min[j], other.min[j]);
            max[j] = Math.max(max[j], other.max[j]);
        }
        count = n;
        return this;
    }

    public long count() {
        return count;
    }

    public double mean(int j) {
        return mean[j];
    }

    /** Population standard deviation (divided by n, as scikit-learn's {@code StandardScaler}). */
    public double std(int j) {
        return count == 0 ? 0 : Math.sqrt(Math.max(0, m2[j] / count));
    }

    public double min(int j) {
        return min[j];
    }

    public double max(int j) {
        return max[j];
    }

    public int features() {
        return mean.length;
    }

    /**
     * The features without spread for {@code method} (standard deviation, or max - min, zero in float): they keep
     * factor 1 (centred, not scaled).
     */
    public List<Integer> constantFeatures(ScalingMethod method) {
        List<Integer> out = new ArrayList<>();
        for (int j = 0; j < mean.length; j++) {
            if (spread(method, j) == 0f) {
                out.add(j);
            }
        }
        return out;
    }

    private float spread(ScalingMethod method, int j) {
        return (float) (method == ScalingMethod.STANDARDIZE ? std(j) : max[j] - min[j]);
    }

    /**
     * The model's scaling for {@code method} ({@code standardize} or {@code minmax}).
     *
     * @throws IllegalArgumentException for a method the model does not store, or no rows
     */
    public FeatureScaling scaling(ScalingMethod method) {
        if (!method.storedInModel() || count == 0) {
            throw new IllegalArgumentException("No stored scaling for " + method + " over " + count + " rows");
        }
        float[] shift = new float[mean.length];
        float[] factor = new float[mean.length];
        for (int j = 0; j < mean.length; j++) {
            shift[j] = (float) (method == ScalingMethod.STANDARDIZE ? mean[j] : min[j]);
            float s = spread(method, j);
            factor[j] = s == 0f ? 1f : (float) (1.0 / s);
        }
        return new FeatureScaling(method.id(), shift, factor);
    }
}
