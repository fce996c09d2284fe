package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables, model and artifacts in a real S3-compatible server (S3Proxy through bin/s3-local, reached with Hadoop's
 * S3A and conf/s3-local.conf's settings), and the publish protocol when that server dies in the middle of a
 * publish.
 */
class ObjectStorageEndToEndTest {
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
        return CliProcess.run(work, LocalServices.CREDENTIALS, args.toArray(String[]::new));
    }

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
}
