package io.compactml.serve;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The version of one model being served, swapped atomically when {@code <model>/LATEST} names a new one that
 * passes {@link ServedVersion#load}: requests that hold the old version finish on it; a version that fails is
 * logged, counted and not tried again, and the old one keeps serving.
 */
final class ModelSlot implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelSlot.class);

    private final ArtifactStore store;
    private final String model;
    private final int threads;
    private final ServeMetrics metrics;
    private final AtomicReference<ServedVersion> current;
    private final ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "compactml-latest-watcher");
        t.setDaemon(true);
        return t;
    });
    private volatile String refused = "";

    ModelSlot(ArtifactStore store, ServedVersion first, int threads, ServeMetrics metrics) {
        this.store = store;
        this.model = first.model;
        this.threads = threads;
        this.metrics = metrics;
        this.current = new AtomicReference<>(first);
        metrics.served(first.model, null, first.version);
    }

    /** Reads LATEST every {@code intervalMs} and swaps in a new version when it verifies. */
    void watchLatest(int intervalMs) {
        watcher.scheduleWithFixedDelay(this::checkLatest, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    /** One look at LATEST: a new version is loaded, verified and swapped in, or refused. */
    void checkLatest() {
        try {
            Optional<String> latest = store.latest(model);
            String served = current.get().version;
            if (latest.isEmpty() || latest.get().equals(served) || latest.get().equals(refused)) {
                return;
            }
            swapTo(latest.get());
        } catch (RuntimeException e) {
            LOG.warn("Reading {}'s LATEST failed, still serving {}: {}", model, current.get().version, e.toString());
        }
    }

    private void swapTo(String version) {
        ServedVersion next;
        try {
            next = ServedVersion.load(store, model, version, threads);
        } catch (CompactMLException e) {
            refused = version;
            metrics.refusedVersion();
            LOG.error(
                    "Refused {} version {}, still serving {}: {}",
                    model,
                    version,
                    current.get().version,
                    e.getMessage());
            return;
        }
        ServedVersion old = current.getAndSet(next);
        metrics.served(model, old.version, next.version);
        LOG.info("Now serving {} version {} (was {})", model, next.version, old.version);
        old.release();
    }

    /** The version to run a request on, retained: release it when done. */
    ServedVersion acquire() {
        while (true) {
            ServedVersion v = current.get();
            if (v.retain()) {
                return v;
            }
        }
    }

    /** The version served now (not retained: for metadata only). */
    ServedVersion peek() {
        return current.get();
    }

    String model() {
        return model;
    }

    @Override
    public void close() {
        watcher.shutdownNow();
        current.get().release();
    }
}
