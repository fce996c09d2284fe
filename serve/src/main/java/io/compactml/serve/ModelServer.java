package io.compactml.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of {@code serve}: the Open Inference Protocol (KServe v2; Triton speaks it too) over JSON, on
 * Javalin.
 *
 * <ul>
 *   <li>{@code GET /v2/health/live}, {@code GET /v2/health/ready} (503 while draining);
 *   <li>{@code GET /v2}: server metadata;
 *   <li>{@code GET /v2/models/{name}[/versions/{v}]}: model metadata (versions, platform, inputs, outputs);
 *   <li>{@code GET /v2/models/{name}[/versions/{v}]/ready};
 *   <li>{@code POST /v2/models/{name}[/versions/{v}]/infer} (see {@link InferenceProtocol});
 *   <li>{@code GET /metrics}: Prometheus text format (see {@link ServeMetrics}).
 * </ul>
 *
 * <p>Every error is a JSON {@code {"error": "..."}} with a 4xx (503 while draining), counted by kind; the server
 * keeps serving.
 */
final class ModelServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelSlot slot;
    private final ServeSettings settings;
    private final ServeMetrics metrics;
    private final Batcher batcher;
    private final InferenceLog log;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Javalin app;
    private volatile boolean draining;

    ModelServer(ModelSlot slot, ServeSettings settings, ServeMetrics metrics, InferenceLog log) {
        this.slot = slot;
        this.settings = settings;
        this.metrics = metrics;
        this.log = log;
        this.batcher = settings.batching()
                ? new Batcher(slot, settings.maxBatchSize(), settings.maxQueueDelayMs(), metrics)
                : null;
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.http.maxRequestSize = settings.maxRequestBytes();
            cfg.jetty.host = settings.host();
            cfg.jetty.port = settings.port();
            cfg.routes.get("/v2/health/live", ctx -> json(ctx, 200, Map.of("live", true)));
            cfg.routes.get("/v2/health/ready", ctx -> json(ctx, draining ? 503 : 200, Map.of("ready", !draining)));
            cfg.routes.get("/v2", ctx -> json(ctx, 200, Map.of("name", "compactml", "extensions", List.of())));
            for (String base : List.of("/v2/models/{name}", "/v2/models/{name}/versions/{version}")) {
                cfg.routes.get(base, ctx -> json(ctx, 200, metadata(resolve(ctx))));
                cfg.routes.get(base + "/ready", this::ready);
                cfg.routes.post(base + "/infer", this::infer);
            }
            cfg.routes.get(
                    "/metrics",
                    ctx -> ctx.contentType(ServeMetrics.CONTENT_TYPE).result(metrics.scrape()));
            cfg.routes.exception(ServeException.class, (e, ctx) -> error(ctx, e.status, e.kind, e.getMessage()));
            cfg.routes.exception(
                    HttpResponseException.class,
                    (e, ctx) ->
                            error(ctx, e.getStatus(), e.getStatus() == 413 ? "too_large" : "bad_request", message(e)));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("Request {} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, "internal", "the server failed on this request: " + e);
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.result() == null) {
                    error(ctx, 404, "not_found", "no such endpoint: " + ctx.method() + " " + ctx.path());
                }
            });
        });
    }

    /** Starts listening; the port actually bound (when {@code serve.port} is 0, a free one). */
    int start() {
        app.start();
        return app.port();
    }

    private void infer(Context ctx) throws InterruptedException {
        long start = System.nanoTime();
        inFlight.incrementAndGet();
        try {
            if (draining) {
                throw new ServeException(503, "not_ready", "the server is shutting down; retry on another replica");
            }
            ServedVersion meta = resolve(ctx);
            if (ctx.req().getContentLengthLong() > settings.maxRequestBytes()) {
                throw new ServeException(
                        413,
                        "too_large",
                        "the body has " + ctx.req().getContentLengthLong() + " bytes, serve.max-request-bytes is "
                                + settings.maxRequestBytes() + ": send fewer rows per request");
            }
            InferenceProtocol.Request r = InferenceProtocol.parse(ctx.bodyAsBytes(), jsonLength(ctx), meta);
            Batcher.Answer a = batcher != null ? await(batcher.submit(r.x(), r.rows())) : direct(r);
            InferenceProtocol.Response out = InferenceProtocol.response(a.version(), r, a.y());
            if (out.jsonLength() >= 0) {
                ctx.header(InferenceProtocol.HEADER_LENGTH, Integer.toString(out.jsonLength()))
                        .contentType("application/octet-stream");
            } else {
                ctx.contentType("application/json");
            }
            ctx.result(out.bytes());
            metrics.answered(a.version().model, a.version().version, System.nanoTime() - start);
            log.offer(a.version().version, r.x(), r.rows(), a.y());
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** The binary extension's JSON length header, -1 without one. */
    private static int jsonLength(Context ctx) {
        String header = ctx.header(InferenceProtocol.HEADER_LENGTH);
        if (header == null) {
            return -1;
        }
        try {
            return Integer.parseInt(header.trim());
        } catch (NumberFormatException e) {
            throw ServeException.badRequest(
                    "bad_json", InferenceProtocol.HEADER_LENGTH + " is '" + header + "', not a byte count");
        }
    }

    private Batcher.Answer direct(InferenceProtocol.Request r) {
        ServedVersion v = slot.acquire();
        try {
            if (!v.takes(r.x(), r.rows())) {
                throw ServeException.widthChanged(v);
            }
            float[][] y = v.run(r.x(), r.rows());
            metrics.batch(r.rows());
            return new Batcher.Answer(y, v);
        } finally {
            v.release();
        }
    }

    private static Batcher.Answer await(java.util.concurrent.CompletableFuture<Batcher.Answer> f)
            throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        }
    }

    private void ready(Context ctx) {
        ServedVersion v = resolve(ctx);
        json(ctx, draining ? 503 : 200, Map.of("name", v.model, "ready", !draining));
    }

    /** The served version a path names, or 404 naming what is served. */
    private ServedVersion resolve(Context ctx) {
        ServedVersion v = slot.peek();
        String name = ctx.pathParam("name");
        if (!name.equals(v.model)) {
            throw ServeException.notFound(
                    "unknown_model", "no model '" + name + "' here; this server serves '" + v.model + "'");
        }
        String version = ctx.pathParamMap().get("version");
        if (version != null && !version.equals(v.version)) {
            throw ServeException.notFound(
                    "unknown_version",
                    "model '" + name + "' version '" + version + "' is not served; serving '" + v.version + "'");
        }
        return v;
    }

    private static Map<String, Object> metadata(ServedVersion v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", v.model);
        m.put("versions", List.of(v.version));
        m.put("platform", ServedVersion.PLATFORM);
        m.put("inputs", List.of(tensor(v.input)));
        if (v.classNames == null) {
            m.put("outputs", List.of(tensor(v.output)));
        } else {
            Map<String, Object> label = new LinkedHashMap<>();
            label.put("name", ServedVersion.LABEL);
            label.put("datatype", "BYTES");
            label.put("shape", List.of(-1L));
            m.put("outputs", List.of(tensor(v.output), label));
            m.put("parameters", Map.of("class_names", v.classNames));
        }
        return m;
    }

    private static Map<String, Object> tensor(io.compactml.common.onnx.OnnxSignature.Tensor t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("datatype", t.datatype());
        m.put("shape", t.shape());
        return m;
    }

    private void error(Context ctx, int status, String kind, String message) {
        metrics.error(kind);
        json(ctx, status, Map.of("error", message));
    }

    private static String message(HttpResponseException e) {
        return e.getStatus() == 413
                ? "the body is larger than serve.max-request-bytes: send fewer rows per request"
                : e.getMessage();
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Graceful stop: readiness turns 503 and new requests are refused, requests in flight finish (up to {@code
     * serve.drain-timeout-ms}), then the HTTP server stops and the inference log is flushed.
     *
     * @return whether every in-flight request finished
     */
    boolean drain() {
        draining = true;
        long deadline = System.nanoTime() + settings.drainTimeoutMs() * 1_000_000L;
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean drained = inFlight.get() == 0;
        close();
        return drained;
    }

    @Override
    public void close() {
        app.stop();
        if (batcher != null) {
            batcher.close();
        }
        log.close();
    }
}
