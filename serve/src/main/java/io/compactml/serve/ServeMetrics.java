package io.compactml.serve;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What {@code GET /metrics} shows, in the Prometheus text format (names follow Prometheus' conventions: base
 * units, {@code _total} counters):
 *
 * <ul>
 *   <li>{@code compactml_serve_requests_total{model,version}}: inference requests answered with outputs;
 *   <li>{@code compactml_serve_errors_total{kind}}: requests refused or failed, by kind (bad_json, wrong_shape,
 *       wrong_datatype, missing_input, unknown_output, not_finite, too_large, unknown_model, unknown_version,
 *       not_ready, internal);
 *   <li>{@code compactml_serve_request_seconds}: the server's own time per inference request, from the body
 *       read to the response written (the client's latency minus the network);
 *   <li>{@code compactml_serve_batch_rows}: rows per ONNX Runtime call (dynamic batching at work);
 *   <li>{@code compactml_serve_model_info{model,version}}: 1 for the version served;
 *   <li>{@code compactml_serve_swaps_total}, {@code compactml_serve_refused_versions_total};
 *   <li>{@code compactml_serve_logged_rows_total}, {@code compactml_serve_log_dropped_rows_total}: the inference log.
 * </ul>
 */
final class ServeMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder()
            .name("compactml_serve_requests_total")
            .help("Inference requests answered with outputs")
            .labelNames("model", "version")
            .register(registry);
    private final Counter errors = Counter.builder()
            .name("compactml_serve_errors_total")
            .help("Requests refused (4xx) or failed (5xx), by kind")
            .labelNames("kind")
            .register(registry);
    private final Histogram latency = Histogram.builder()
            .name("compactml_serve_request_seconds")
            .help("Server time per inference request, body read to response written")
            .classicOnly()
            .classicUpperBounds(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
            .register(registry);
    private final Histogram batchRows = Histogram.builder()
            .name("compactml_serve_batch_rows")
            .help("Rows per ONNX Runtime call")
            .classicOnly()
            .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
            .register(registry);
    private final Gauge info = Gauge.builder()
            .name("compactml_serve_model_info")
            .help("1 for the model version being served")
            .labelNames("model", "version")
            .register(registry);
    private final Counter swaps = Counter.builder()
            .name("compactml_serve_swaps_total")
            .help("New versions swapped in")
            .register(registry);
    private final Counter refused = Counter.builder()
            .name("compactml_serve_refused_versions_total")
            .help("New versions that failed verification and were not served")
            .register(registry);
    private final Counter logged = Counter.builder()
            .name("compactml_serve_logged_rows_total")
            .help("Rows written to the inference log")
            .register(registry);
    private final Counter dropped = Counter.builder()
            .name("compactml_serve_log_dropped_rows_total")
            .help("Rows the inference log dropped (queue full or storage down)")
            .register(registry);

    void answered(String model, String version, long nanos) {
        requests.labelValues(model, version).inc();
        latency.observe(nanos / 1e9);
    }

    void error(String kind) {
        errors.labelValues(kind).inc();
    }

    void batch(int rows) {
        batchRows.observe(rows);
    }

    /** The version served changed from {@code old} (null at start) to {@code now}. */
    void served(String model, String old, String now) {
        if (old != null) {
            info.remove(model, old);
            swaps.inc();
        }
        info.labelValues(model, now).set(1);
    }

    void refusedVersion() {
        refused.inc();
    }

    void logged(long rows) {
        logged.inc(rows);
    }

    void dropped(long rows) {
        dropped.inc(rows);
    }

    /** Everything, in the Prometheus text format 0.0.4. */
    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
}
