package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.compactml.common.data.IdxFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables, model and artifacts in a real S3-compatible server (S3Proxy through bin/s3-local, reached with Hadoop's
 * S3A and conf/s3-local.conf's settings), and the publish protocol when that server dies in the middle of a
 * publish.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ObjectStorageEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    private static LocalServices.S3 s3;
    private static Path conf;

    @BeforeAll
    static void startServer() throws Exception {
        s3 = new LocalServices.S3(work.resolve("s3")).start();
        conf = s3.config(work, "s3-local.conf");
        System.out.printf("s3-local started in %d ms%n", s3.startMillis);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (s3 != null) {
            s3.stop();
        }
    }

    private static CliProcess.Outcome compactml(String job, String... more) throws Exception {
        // a wide hidden layer: the model file takes long enough to write and read back that the test can stop
        // the server between the file and the manifest
        List<String> args = new ArrayList<>(List.of(
                job,
                "--config",
                conf.toString(),
                "--run-id",
                "s3",
                "--set",
                "data.train.limit=2000",
                "--set",
                "data.eval.limit=500",
                "--set",
                "train.epochs=1",
                "--set",
                "network.hidden=[1024]",
                "--set",
                "evaluate.latency-runs=5",
                "--set",
                "spark.master=local[2]"));
        args.addAll(Arrays.asList(more));
        CliProcess.Outcome o = CliProcess.run(work, LocalServices.CREDENTIALS, args.toArray(String[]::new));
        PRINTED.add(o.stdout() + o.stderr());
        return o;
    }

    /** What every job of this class printed, for {@link #noRunWroteOrPrintedTheSecretKey}. */
    private static final List<String> PRINTED = new ArrayList<>();

    private static void ok(CliProcess.Outcome o) {
        assertEquals(0, o.exitCode(), o.toString());
    }

    private Path artifact(String version) {
        return s3.bucket().resolve("artifacts/fmnist-mlp").resolve(version);
    }

    private String latest() throws Exception {
        return Files.readString(s3.bucket().resolve("artifacts/fmnist-mlp/LATEST"))
                .trim();
    }

    @Test
    @Order(1)
    void publishesThroughS3AndSurvivesTheServerDyingMidPublish() throws Exception {
        ok(compactml("train"));
        ok(compactml("evaluate"));
        assertTrue(Files.isDirectory(s3.bucket().resolve("warehouse/evaluations/_delta_log")), "Delta table in S3");
        assertTrue(Files.exists(s3.bucket().resolve("models/fmnist-mlp/s3/model.zip")), "model in S3");

        ok(compactml("publish", "--set", "publish.version=v1"));
        assertTrue(Files.exists(artifact("v1").resolve("manifest.json")));
        assertEquals("v1", latest());

        // v2: kill the server as soon as the model file is in the bucket, before the manifest can be
        Path modelFile = artifact("v2").resolve("model.zip");
        AtomicLong killedAt = new AtomicLong();
        Thread killer = new Thread(() -> {
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (!Files.exists(modelFile) && System.nanoTime() < deadline) {
                LockSupport.parkNanos(200_000);
            }
            if (Files.exists(modelFile)) {
                s3.kill();
                killedAt.set(System.nanoTime());
            }
        });
        killer.start();
        CliProcess.Outcome interrupted = compactml("publish", "--set", "publish.version=v2");
        long endedAt = System.nanoTime();
        killer.join();
        assertTrue(killedAt.get() != 0, "the publish never wrote its model file: " + interrupted);
        double secondsToFailure = (endedAt - killedAt.get()) / 1e9;
        System.out.printf("publish failed %.1f s after the server was killed%n", secondsToFailure);
        assertEquals(1, interrupted.exitCode(), interrupted.toString());
        assertTrue(interrupted.stderr().contains("Object storage unreachable"), interrupted.stderr());
        assertTrue(secondsToFailure < 30, "bounded failure: " + secondsToFailure + " s");
        assertFalse(Files.exists(artifact("v2").resolve("manifest.json")), "no manifest for the interrupted publish");
        assertEquals("v1", latest(), "LATEST still names the last complete version");

        s3.start();
        CliProcess.Outcome rerun = compactml("publish", "--set", "publish.version=v2");
        ok(rerun);
        assertFalse(rerun.stdout().contains("already present"), rerun.stdout());
        assertTrue(Files.exists(artifact("v2").resolve("manifest.json")));
        assertEquals("v2", latest());
        ok(compactml("verify", "--set", "verify.version=v2"));
    }

    /** The first {@code n} Fashion-MNIST test images as the model takes them (divided by 255), and their labels. */
    private static float[][] testImages(int n) throws Exception {
        String dir = "/usr/share/datasets/fashion-mnist/";
        float[][] x;
        try (var in = Files.newInputStream(Path.of(dir, "t10k-images-idx3-ubyte.gz"))) {
            x = IdxFile.read(in, "t10k-images", 0, n);
        }
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] /= 255f;
            }
        }
        return x;
    }

    private static int[] testLabels(int n) throws Exception {
        try (var in = Files.newInputStream(Path.of("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"))) {
            float[][] y = IdxFile.read(in, "t10k-labels", 0, n);
            return Arrays.stream(y).mapToInt(r -> (int) r[0]).toArray();
        }
    }

    /** Infers {@code x} in requests of 50 rows; the predicted classes. */
    private static int[] predict(ServeProcess serve, float[][] x) throws Exception {
        int[] predicted = new int[x.length];
        for (int from = 0; from < x.length; from += 50) {
            int rows = Math.min(50, x.length - from);
            StringBuilder data = new StringBuilder();
            for (int r = from; r < from + rows; r++) {
                for (float v : x[r]) {
                    data.append(data.length() == 0 ? "" : ",").append(v);
                }
            }
            var response = serve.post(
                    "/v2/models/fmnist-mlp/infer",
                    "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[" + rows + "," + x[0].length
                            + "],\"data\":[" + data + "]}]}");
            assertEquals(200, response.statusCode(), response.body());
            JsonNode out = JSON.readTree(response.body()).at("/outputs/0/data");
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int c = 1; c < 10; c++) {
                    best = out.get(r * 10 + c).floatValue()
                                    > out.get(r * 10 + best).floatValue()
                            ? c
                            : best;
                }
                predicted[from + r] = best;
            }
        }
        return predicted;
    }

    @Test
    @Order(2)
    void servesFromS3AndMonitorsTheDriftOfWhatItServed() throws Exception {
        float[][] images = testImages(500);
        int[] labels = testLabels(500);
        Instant shiftStart;
        try (ServeProcess serve = ServeProcess.start(
                work,
                LocalServices.CREDENTIALS,
                "--model",
                "fmnist-mlp",
                "--config",
                conf.toString(),
                "--set",
                "serve.log-fraction=1.0",
                "--set",
                "serve.log-flush-rows=250")) {
            assertTrue(serve.awaitServing(), serve.log());
            JsonNode meta = JSON.readTree(serve.get("/v2/models/fmnist-mlp").body());
            assertEquals("[\"v2\"]", meta.get("versions").toString(), "the version LATEST names in the bucket");
            assertEquals("[-1,784]", meta.at("/inputs/0/shape").toString());

            // the same predictions evaluate scored: accuracy on data.eval's 500 images as in the manifest
            int[] predicted = predict(serve, images);
            long correct = java.util.stream.IntStream.range(0, 500)
                    .filter(i -> predicted[i] == labels[i])
                    .count();
            JsonNode manifest = JSON.readTree(Files.readString(artifact("v2").resolve("manifest.json")));
            assertEquals(manifest.at("/metrics/accuracy").asDouble(), correct / 500.0, 1e-9, "served = evaluated");

            var bad = serve.post("/v2/models/fmnist-mlp/infer", "{\"inputs\":[{\"name\":\"input\"}]}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("the model takes FP32"), bad.body());
            assertEquals(200, serve.get("/v2/health/ready").statusCode(), "still serving after a bad request");

            shiftStart = Instant.now();
            Thread.sleep(20);
            float[][] inverted = new float[images.length][];
            for (int i = 0; i < images.length; i++) {
                inverted[i] = images[i].clone();
                for (int j = 0; j < inverted[i].length; j++) {
                    inverted[i][j] = 1f - inverted[i][j];
                }
            }
            predict(serve, inverted);
            assertEquals(0, serve.stop(), serve.log());
            assertTrue(serve.log().contains("Stopped, every request answered"), serve.log());
        }
        assertTrue(
                Files.isDirectory(s3.bucket().resolve("warehouse/inference_log/_delta_log")),
                "the inference log is a Delta table in the bucket");

        // a tampered artifact is refused: nothing valid to serve, exit 1
        Path onnx = artifact("v1").resolve("model.onnx");
        byte[] bytes = Files.readAllBytes(onnx);
        bytes[bytes.length / 2] ^= 1;
        Files.write(onnx, bytes);
        try (ServeProcess tampered = ServeProcess.start(
                work,
                LocalServices.CREDENTIALS,
                "--model",
                "fmnist-mlp",
                "--version",
                "v1",
                "--config",
                conf.toString())) {
            assertEquals(1, tampered.awaitExit(), tampered.log());
            assertTrue(tampered.log().contains("model.onnx has sha256"), tampered.log());
        }

        // monitor: the clean window has no drift (exit 0), the inverted one drifts (exit 3)
        ok(compactml("calibrate", "--set", "data.calibration.limit=2000"));
        CliProcess.Outcome clean = compactml("monitor", "--set", "monitor.window-end=\"" + shiftStart + "\"");
        assertEquals(0, clean.exitCode(), clean.toString());
        assertTrue(clean.stdout().contains("500 rows, no drift"), clean.stdout());
        CliProcess.Outcome shifted = compactml("monitor", "--set", "monitor.window-start=\"" + shiftStart + "\"");
        assertEquals(3, shifted.exitCode(), shifted.toString());
        assertTrue(shifted.stdout().contains("500 rows, DRIFT in "), shifted.stdout());
        assertTrue(shifted.stdout().contains("input psi"), "the input's PSI among the worst: " + shifted.stdout());

        // drift over time in the report and the drift notebook's queries
        ok(compactml("report"));
        assertTrue(Files.readString(work.resolve("reports/s3/index.html")).contains("Drift against the calibration"));
        assertTrue(Files.size(work.resolve("reports/s3/drift.png")) > 0);
        CliProcess.Outcome sql = CliProcess.run(
                work,
                LocalServices.CREDENTIALS,
                "sql",
                "--config",
                conf.toString(),
                "--format",
                "csv",
                "--file",
                CliProcess.ROOT.resolve("notebooks/drift.sql").toString());
        ok(sql);
        var rows = CliProcess.rowsPerQuery(sql.stdout());
        assertEquals(java.util.Set.of("drift_latest", "drift_over_time", "drifted_windows"), rows.keySet());
        rows.forEach((name, n) -> assertTrue(n > 0, "drift.sql query " + name + " returned no rows"));
    }

    @Test
    @Order(3)
    void noRunWroteOrPrintedTheSecretKey() throws Exception {
        // every job above ran with the S3 secret key in its environment: it must not appear in what they printed,
        // nor in any file they wrote (tables, Delta logs, manifests, reports, the inference log, the server's log),
        // locally or in the bucket; only the S3 server's own credential file holds it
        byte[] secret = LocalServices.SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(PRINTED.size() >= 10, "jobs ran: " + PRINTED.size());
        for (String out : PRINTED) {
            assertTrue(!out.contains(LocalServices.SECRET), "a job printed the secret key");
        }
        Path serverConf = s3.dir.resolve("s3proxy.conf");
        List<Path> files;
        try (var walk = Files.walk(work)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(f -> !f.equals(serverConf))
                    .toList();
        }
        assertTrue(files.size() > 100, "files written: " + files.size());
        assertTrue(indexOf(Files.readAllBytes(serverConf), secret) >= 0, "the check finds the secret where it is");
        for (Path f : files) {
            assertEquals(-1, indexOf(Files.readAllBytes(f), secret), "the secret key is in " + work.relativize(f));
        }
    }

    private static int indexOf(byte[] data, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= data.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (data[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
