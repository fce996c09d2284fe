package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar through the real SparkSubmit on a real standalone cluster (a Master and two Workers from the
 * Spark jars, through bin/spark-local), with Delta tables, models and the artifact in S3 (bin/s3-local).
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class ClusterEndToEndTest {
    @TempDir
    static Path work;

    private static LocalServices.S3 s3;
    private static LocalServices.Cluster cluster;
    private static Path conf;

    @BeforeAll
    static void startServices() throws Exception {
        s3 = new LocalServices.S3(work.resolve("s3")).start();
        cluster = new LocalServices.Cluster(work.resolve("spark")).start();
        conf = s3.config(work, "cluster-local.conf");
        System.out.printf(
                "s3-local started in %d ms, spark-local (master and 2 workers) in %d ms%n",
                s3.startMillis, cluster.startMillis);
    }

    @AfterAll
    static void stopServices() throws Exception {
        if (cluster != null) {
            cluster.stop();
        }
        if (s3 != null) {
            s3.stop();
        }
    }

    private static String[] args(String job, String... more) {
        return argsOf("cluster", job, more);
    }

    private static String[] argsOf(String run, String job, String... more) {
        List<String> args = new ArrayList<>(List.of(
                job,
                "--config",
                conf.toString(),
                "--run-id",
                run,
                "--set",
                "data.train.limit=2000",
                "--set",
                "data.eval.limit=500",
                "--set",
                "data.calibration.limit=1000",
                "--set",
                "train.epochs=1",
                "--set",
                "network.hidden=[64]",
                "--set",
                "evaluate.latency-runs=5",
                "--set",
                "publish.model=int8"));
        args.addAll(Arrays.asList(more));
        return args.toArray(String[]::new);
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void calibrateQuantizeAndPublishRunOnTheCluster() throws Exception {
        CliProcess.Outcome trained =
                CliProcess.run(work, LocalServices.CREDENTIALS, args("train", "--set", "spark.master=local[2]"));
        assertEquals(0, trained.exitCode(), trained.toString());

        long start = System.nanoTime();
        for (String job : List.of("calibrate", "quantize", "publish")) {
            CliProcess.Outcome o = cluster.submit(work, args(job));
            assertEquals(0, o.exitCode(), job + " on the cluster: " + o);
            assertTrue(o.stdout().contains(job + " run cluster succeeded"), o.stdout());
        }
        System.out.printf(
                "calibrate, quantize and publish through spark-submit took %.1f s%n",
                (System.nanoTime() - start) / 1e9);

        Path bucket = s3.bucket();
        for (String table : List.of("quant_params", "evaluations", "artifacts", "runs")) {
            assertTrue(
                    Files.isDirectory(bucket.resolve("warehouse").resolve(table).resolve("_delta_log")), table);
        }
        assertTrue(Files.exists(bucket.resolve("models/fmnist-mlp-int8/cluster/model.int8")));
        Path artifact = bucket.resolve("artifacts/fmnist-mlp-int8/cluster");
        assertTrue(Files.exists(artifact.resolve("model.int8")));
        assertTrue(Files.exists(artifact.resolve("manifest.json")));
        // the work ran in the Workers' executors, not in the driver: both have executor logs with tasks
        for (int worker = 1; worker <= 2; worker++) {
            assertTrue(!taskLogs(worker).isEmpty(), "worker " + worker + " ran tasks");
        }
        // and a serving process can load what the cluster published
        CliProcess.Outcome verified = CliProcess.run(
                work,
                LocalServices.CREDENTIALS,
                args("verify", "--set", "spark.master=local[2]", "--set", "verify.model=fmnist-mlp-int8"));
        assertEquals(0, verified.exitCode(), verified.toString());
    }

    /** The executor logs of Worker {@code i} that show a task run. */
    private static List<Path> taskLogs(int i) throws java.io.IOException {
        try (Stream<Path> logs = Files.walk(cluster.workerDir(i))) {
            return logs.filter(p -> p.getFileName().toString().equals("stderr"))
                    .filter(p -> {
                        try {
                            return Files.readString(p).contains("Running task");
                        } catch (java.io.IOException e) {
                            return false;
                        }
                    })
                    .toList();
        }
    }

    /**
     * Training on the cluster gives the model training in one JVM gives: the same data, seed and workers, so the
     * same minibatches in the same order on each worker, wherever its shuffle blocks came from.
     */
    @Test
    @org.junit.jupiter.api.Order(2)
    void trainingOnTheClusterLearnsWhatAnEmbeddedRunLearns() throws Exception {
        CliProcess.Outcome trained = cluster.submit(work, argsOf("dealt", "train"));
        assertEquals(0, trained.exitCode(), trained.toString());
        String rows = csv("SELECT run_id, workers, train_loss, val_accuracy FROM training_history"
                + " WHERE run_id IN ('cluster', 'dealt') ORDER BY run_id");
        List<String> lines = rows.lines().toList();
        int header = lines.indexOf("run_id,workers,train_loss,val_accuracy");
        assertTrue(header >= 0 && lines.size() >= header + 3, rows);
        String embedded = lines.get(header + 1);
        String onCluster = lines.get(header + 2);
        assertTrue(embedded.startsWith("cluster,2,") && onCluster.startsWith("dealt,2,"), rows);
        assertEquals(
                embedded.substring("cluster".length()),
                onCluster.substring("dealt".length()),
                "the embedded run (local[2]) and the cluster's: " + rows);
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void aWorkerKilledMidJobLeavesTheJobFinishedOrFailedInOneLineAndARerunCompletes() throws Exception {
        List<Path> before = taskLogs(2);
        String[] train = argsOf("loss", "train", "--set", "train.epochs=6");
        Process job = cluster.startSubmit(work, train);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(4);
        while (job.isAlive() && taskLogs(2).size() == before.size() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(job.isAlive(), "the job was still running when Worker 2 ran its first task");
        cluster.killWorker(2);
        assertTrue(job.waitFor(5, java.util.concurrent.TimeUnit.MINUTES), "the job ends after the Worker is lost");
        int first = job.exitValue();
        System.out.printf("train with Worker 2 killed mid-job: exit %d%n", first);
        assertTrue(first == 0 || first == 1, "finished on the remaining Worker, or failed as a runtime failure");

        CliProcess.Outcome rerun = cluster.submit(work, train);
        assertEquals(0, rerun.exitCode(), rerun.toString());
        String rows = csv("SELECT count(*) AS epochs FROM training_history WHERE run_id = 'loss'");
        assertTrue(rows.contains("epochs\n6"), "one run's rows: " + rows);
    }

    /** {@code query} run by {@code compactml sql} on this test's tables (in S3), its stdout in CSV; exit 0 asserted. */
    private static String csv(String query) throws Exception {
        CliProcess.Outcome o = CliProcess.run(
                work, LocalServices.CREDENTIALS, "sql", "--config", conf.toString(), "--format", "csv", query);
        assertEquals(0, o.exitCode(), o.toString());
        return o.stdout();
    }
}
