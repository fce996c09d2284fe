package io.compactml.common.eval;

import io.compactml.common.config.CompactConfig;

/**
 * How models are evaluated ({@code evaluate.*}).
 *
 * @param topK             k of the top-k accuracy
 * @param batchSize        inference minibatch size
 * @param latencyRuns      timed single-example inferences (0 = no latency metrics)
 * @param latencyBatchSize examples in the batch-latency measurement
 * @param runtime          what runs the models measured
 * @param latencyThreads   threads of the latency measurement (ONNX Runtime's intra-op threads)
 */
public record EvaluateSettings(
        int topK, int batchSize, int latencyRuns, int latencyBatchSize, ServingRuntime runtime, int latencyThreads) {

    public static EvaluateSettings from(CompactConfig c) {
        return new EvaluateSettings(
                c.getInt("evaluate.top-k"),
                c.getInt("evaluate.batch-size"),
                c.getInt("evaluate.latency-runs"),
                c.getInt("evaluate.latency-batch-size"),
                c.getEnum("evaluate.runtime", ServingRuntime.class),
                c.getInt("evaluate.latency-threads"));
    }

    /** The top-k for a model of {@code classes} outputs: k, at most the number of classes. */
    public int topK(int classes) {
        return Math.min(topK, classes);
    }
}
