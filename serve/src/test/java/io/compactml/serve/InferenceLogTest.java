package io.compactml.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The inference log: what it keeps, that a failing store only drops and counts, and the Delta table it writes. */
class InferenceLogTest {
    @TempDir
    Path dir;

    private static float[][] outputs(int rows) {
        float[][] y = new float[rows][];
        for (int r = 0; r < rows; r++) {
            y[r] = new float[] {r, 1f};
        }
        return y;
    }

    @Test
    void keepsEveryRowOfTheSampledRequestsInBatches() {
        List<List<InferenceLog.Entry>> written = new ArrayList<>();
        ServeMetrics metrics = new ServeMetrics();
        InferenceLog log = new InferenceLog(1.0, 4, entries -> written.add(List.copyOf(entries)), metrics);
        for (int k = 0; k < 3; k++) {
            log.offer("v1", new float[] {k, k + 0.5f, 2 * k, 2 * k + 0.5f}, 2, outputs(2));
        }
        log.close();
        assertEquals(6, written.stream().mapToInt(List::size).sum(), "3 requests of 2 rows");
        InferenceLog.Entry second = written.get(0).get(1);
        assertEquals("v1", second.version());
        assertEquals(2, second.features().length, "features per row: 4 values / 2 rows");
        assertEquals(0.5f, second.features()[1], 0f, "row 1 of request 0: [0, 0.5]");
        assertTrue(new String(metrics.scrape()).contains("compactml_serve_logged_rows_total 6.0"));
    }

    @Test
    void aFailingStoreDropsAndCountsAndNeverBlocks() throws Exception {
        ServeMetrics metrics = new ServeMetrics();
        InferenceLog log = new InferenceLog(
                1.0,
                2,
                entries -> {
                    throw new NoClassDefFoundError("com/example/Missing");
                },
                metrics);
        CountDownLatch done = new CountDownLatch(1);
        Thread client = new Thread(() -> {
            for (int k = 0; k < 10_000; k++) {
                log.offer("v1", new float[] {1f, 2f}, 1, outputs(1));
            }
            done.countDown();
        });
        client.start();
        assertTrue(done.await(10, TimeUnit.SECONDS), "offers never wait for the store");
        log.close();
        String scraped = new String(metrics.scrape());
        assertTrue(scraped.contains("compactml_serve_log_dropped_rows_total 10000.0"), scraped);
        assertTrue(scraped.contains("compactml_serve_logged_rows_total 0.0"), scraped);
    }

    @Test
    void writesOneDeltaCommitPerBatch() throws Exception {
        Path table = dir.resolve("inference_log");
        DeltaInferenceSink sink = new DeltaInferenceSink(table.toString(), "tiny", new Configuration());
        InferenceLog log = new InferenceLog(1.0, 2, sink, new ServeMetrics());
        log.offer("1", new float[] {1f, 2f, 3f, 4f}, 2, new float[][] {{0.1f, 0.9f}, {0.8f, 0.2f}});
        log.close();
        Path commit = table.resolve("_delta_log/00000000000000000000.json");
        String json = Files.readString(commit);
        assertTrue(json.contains("\"numRecords\\\":2"), json);
        assertTrue(json.contains("CREATE TABLE"), json);
        for (String column : List.of("model", "version", "time", "features", "outputs", "prediction")) {
            assertTrue(json.contains("\\\"name\\\":\\\"" + column + "\\\""), column + " in " + json);
        }
    }
}
