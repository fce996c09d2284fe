package io.compactml.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sample of served requests for {@code monitor}: each request is kept with probability {@code serve.log-fraction},
 * its rows queued (bounded) and written by one background thread in batches of {@code serve.log-flush-rows} rows
 * (or every 10 s) through a {@link Sink}. Logging never blocks or fails a request: a full queue or a failing sink
 * drops the rows and counts them in {@code compactml_serve_log_dropped_rows_total}.
 */
class InferenceLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InferenceLog.class);
    private static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** One logged row: the model version, the time (ms since the epoch), its inputs and its outputs. */
    record Entry(String version, long timeMillis, float[] features, float[] outputs) {}

    /** Where batches of entries go. */
    interface Sink {
        void write(List<Entry> entries) throws Exception;
    }

    private final double fraction;
    private final int flushRows;
    private final Sink sink;
    private final ServeMetrics metrics;
    private final ArrayBlockingQueue<Entry> queue;
    private final Thread writer;
    private volatile boolean closed;

    InferenceLog(double fraction, int flushRows, Sink sink, ServeMetrics metrics) {
        this.fraction = fraction;
        this.flushRows = flushRows;
        this.sink = sink;
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(Math.max(4 * flushRows, 1024));
        this.writer = new Thread(this::drain, "compactml-inference-log");
        writer.setDaemon(true);
        if (fraction > 0) {
            writer.start();
        }
    }

    /**
     * The log {@code serve.*} asks for: the {@code inference_log} Delta table at {@code serve.log-uri} when
     * {@code serve.log-fraction} is above 0, else one that keeps nothing.
     */
    static InferenceLog open(
            ServeSettings s, String model, org.apache.hadoop.conf.Configuration hadoop, ServeMetrics m) {
        if (s.logFraction() <= 0) {
            return disabled(m);
        }
        return new InferenceLog(
                s.logFraction(), s.logFlushRows(), new DeltaInferenceSink(s.logUri(), model, hadoop), m);
    }

    /** A log that keeps nothing. */
    static InferenceLog disabled(ServeMetrics metrics) {
        return new InferenceLog(0, 1, entries -> {}, metrics);
    }

    /** Offers one answered request ({@code rows} rows of {@code x}, outputs {@code y}); never blocks. */
    void offer(String version, float[] x, int rows, float[][] y) {
        if (fraction <= 0 || closed || ThreadLocalRandom.current().nextDouble() >= fraction) {
            return;
        }
        int features = x.length / rows;
        long now = System.currentTimeMillis();
        for (int r = 0; r < rows; r++) {
            float[] row = java.util.Arrays.copyOfRange(x, r * features, (r + 1) * features);
            if (!queue.offer(new Entry(version, now, row, y[r]))) {
                metrics.dropped(1);
            }
        }
    }

    private void drain() {
        List<Entry> batch = new ArrayList<>();
        long last = System.nanoTime();
        while (!closed || !queue.isEmpty()) {
            try {
                Entry e = queue.poll(100, TimeUnit.MILLISECONDS);
                if (e != null) {
                    batch.add(e);
                }
            } catch (InterruptedException ie) {
                if (!closed) {
                    continue;
                }
            }
            queue.drainTo(batch, flushRows - batch.size());
            if (batch.size() >= flushRows || (!batch.isEmpty() && System.nanoTime() - last > FLUSH_NANOS)) {
                flush(batch);
                last = System.nanoTime();
            }
        }
        flush(batch);
    }

    private void flush(List<Entry> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            sink.write(batch);
            metrics.logged(batch.size());
        } catch (Exception | LinkageError e) {
            // a class the store needs missing is a failed write too: the writer keeps running, requests never see it
            metrics.dropped(batch.size());
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            LOG.warn(
                    "Inference log: dropped {} rows, storage failed: {} (cause: {})",
                    batch.size(),
                    e.toString(),
                    root.toString());
        }
        batch.clear();
    }

    /** Writes what is queued and stops. */
    @Override
    public void close() {
        closed = true;
        if (writer.isAlive()) {
            try {
                writer.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
