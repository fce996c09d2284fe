package io.compactml.common.eval;

import java.io.Serializable;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sufficient statistics of an evaluation, accumulated per partition and merged exactly: counts and sums only,
 * so the merged metrics do not depend on how the data was partitioned (up to float summation order for the
 * loss).
 */
public interface MetricTally<T extends MetricTally<T>> extends Serializable {

    /** Adds a minibatch: network outputs and labels, one row per example. */
    void add(INDArray outputs, INDArray labels);

    /** This tally plus another, as a new tally; neither input changes. */
    T merge(T other);

    /** Metric name to value, names in snake_case. */
    Map<String, Double> metrics();

    /** Examples seen. */
    long count();
}
