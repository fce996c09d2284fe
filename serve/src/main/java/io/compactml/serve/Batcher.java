package io.compactml.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching, as Triton's dynamic batcher does it: requests wait in one queue; a single worker takes the
 * first, gathers more until {@code maxBatchRows} rows or until {@code maxQueueDelayMs} after it, runs them as one
 * ONNX Runtime call on the version served at that moment and answers each request with its own rows. A request
 * that would overflow the batch starts the next one; a request larger than the batch runs alone.
 *
 * <p>One worker: the session already uses every intra-op thread, and while it runs one batch the next one fills.
 */
final class Batcher implements AutoCloseable {
    private record Pending(float[] x, int rows, CompletableFuture<Answer> done) {}

    /** The rows of one request and the version that computed them. */
    record Answer(float[][] y, ServedVersion version) {}

    private final ModelSlot slot;
    private final int maxBatchRows;
    private final long maxQueueDelayNanos;
    private final ServeMetrics metrics;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private Pending carried;

    Batcher(ModelSlot slot, int maxBatchRows, double maxQueueDelayMs, ServeMetrics metrics) {
        this.slot = slot;
        this.maxBatchRows = maxBatchRows;
        this.maxQueueDelayNanos = (long) (maxQueueDelayMs * 1e6);
        this.metrics = metrics;
        this.worker = new Thread(this::work, "compactml-batcher");
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues {@code rows} rows; the future completes with their outputs, or exceptionally if the run failed. */
    CompletableFuture<Answer> submit(float[] x, int rows) {
        CompletableFuture<Answer> done = new CompletableFuture<>();
        queue.add(new Pending(x, rows, done));
        return done;
    }

    private void work() {
        while (!closed) {
            List<Pending> batch;
            try {
                batch = gather();
            } catch (InterruptedException e) {
                return;
            }
            run(batch);
        }
    }

    private List<Pending> gather() throws InterruptedException {
        Pending first = carried != null ? carried : queue.take();
        carried = null;
        List<Pending> batch = new ArrayList<>();
        batch.add(first);
        int rows = first.rows;
        long deadline = System.nanoTime() + maxQueueDelayNanos;
        while (rows < maxBatchRows) {
            Pending next = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (next == null) {
                break;
            }
            if (rows + next.rows > maxBatchRows) {
                carried = next;
                break;
            }
            batch.add(next);
            rows += next.rows;
        }
        return batch;
    }

    private void run(List<Pending> batch) {
        ServedVersion v = slot.acquire();
        try {
            batch = sameWidth(batch, v);
            if (batch.isEmpty()) {
                return;
            }
            int rows = batch.stream().mapToInt(Pending::rows).sum();
            float[] x;
            if (batch.size() == 1) {
                x = batch.get(0).x;
            } else {
                x = new float[rows * v.features];
                int at = 0;
                for (Pending p : batch) {
                    System.arraycopy(p.x, 0, x, at, p.x.length);
                    at += p.x.length;
                }
            }
            float[][] y = v.run(x, rows);
            metrics.batch(rows);
            int at = 0;
            for (Pending p : batch) {
                float[][] own = new float[p.rows][];
                System.arraycopy(y, at, own, 0, p.rows);
                at += p.rows;
                p.done.complete(new Answer(own, v));
            }
        } catch (RuntimeException e) {
            batch.forEach(p -> p.done.completeExceptionally(e));
        } finally {
            v.release();
        }
    }

    /**
     * The requests parsed for {@code v}'s input width; the others (parsed against a version swapped out since, of
     * another width) are answered 503, to be retried on the new one.
     */
    private static List<Pending> sameWidth(List<Pending> batch, ServedVersion v) {
        List<Pending> ok = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            if (v.takes(p.x, p.rows)) {
                ok.add(p);
            } else {
                p.done.completeExceptionally(ServeException.widthChanged(v));
            }
        }
        return ok;
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        queue.forEach(
                p -> p.done.completeExceptionally(new ServeException(503, "not_ready", "the server is stopping")));
    }
}
