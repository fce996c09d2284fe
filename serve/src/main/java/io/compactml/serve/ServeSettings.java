package io.compactml.serve;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.config.Locations;

/**
 * What {@code serve} does ({@code serve.*}), read once from the config.
 *
 * @param host            address to bind
 * @param port            port to listen on, 0 for any free one
 * @param maxBatchSize    most rows one ONNX Runtime call gathers; 1 turns dynamic batching off
 * @param maxQueueDelayMs how long the first request of a batch waits for others (ms)
 * @param maxRequestBytes largest request body read (bytes)
 * @param threads         ONNX Runtime intra-op threads
 * @param pollIntervalMs  how often {@code <model>/LATEST} is read (ms)
 * @param drainTimeoutMs  how long in-flight requests may take after SIGTERM (ms)
 * @param logFraction     fraction of requests written to the inference log, in [0, 1]
 * @param logUri          where the inference log goes
 * @param logFlushRows    rows gathered before one log file is written
 * @param artifactsRoot   where published artifacts are ({@code artifacts.root})
 */
public record ServeSettings(
        String host,
        int port,
        int maxBatchSize,
        double maxQueueDelayMs,
        int maxRequestBytes,
        int threads,
        int pollIntervalMs,
        int drainTimeoutMs,
        double logFraction,
        String logUri,
        int logFlushRows,
        String artifactsRoot) {

    public static ServeSettings from(CompactConfig c) {
        return new ServeSettings(
                c.getString("serve.host"),
                c.getInt("serve.port"),
                c.getInt("serve.max-batch-size"),
                c.getDouble("serve.max-queue-delay-ms"),
                c.getInt("serve.max-request-bytes"),
                c.getInt("serve.threads"),
                c.getInt("serve.poll-interval-ms"),
                c.getInt("serve.drain-timeout-ms"),
                c.getDouble("serve.log-fraction"),
                Locations.inferenceLog(c),
                c.getInt("serve.log-flush-rows"),
                c.getString("artifacts.root"));
    }

    /** Whether concurrent requests are gathered into one runtime call. */
    public boolean batching() {
        return maxBatchSize > 1;
    }
}
