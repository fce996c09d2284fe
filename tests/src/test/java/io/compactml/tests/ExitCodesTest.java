package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exit code is the contract with spark-submit and Airflow: 0 ok, 2 usage/config, 1 runtime failure. */
class ExitCodesTest {
    @TempDir
    Path work;

    @Test
    void unknownConfigKeyExitsTwoBeforeSparkStarts() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "train", "--set", "train.epocs=2");
        assertEquals(2, o.exitCode(), o.toString());
        assertTrue(
                o.stderr().contains("error: Unknown config key 'train.epocs'. Did you mean: train.epochs?"),
                o.toString());
        assertFalse(Files.exists(work.resolve("warehouse")), "nothing written for a config error");
    }

    @Test
    void aSparsityOfOneExitsTwoBeforeSparkStarts() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "prune", "--set", "prune.sparsity=1.0");
        assertEquals(2, o.exitCode(), o.toString());
        assertTrue(
                o.stderr()
                        .contains("error: Config key 'prune.sparsity' has value '1'; allowed: a number in [0,"
                                + " 0.999]"),
                o.toString());
        assertFalse(Files.exists(work.resolve("warehouse")), "nothing written for a config error");
    }

    @Test
    void objectStorageWithoutCredentialsExitsTwoWithWhatToSet() throws Exception {
        CliProcess.Outcome o = CliProcess.run(
                work,
                "evaluate",
                "--run-id",
                "nocred",
                "--set",
                "model.path=\"s3a://compactml/models/m.zip\"",
                "--set",
                "spark.conf.\"spark.hadoop.fs.s3a.endpoint\"=\"http://127.0.0.1:9\"",
                "--set",
                "spark.conf.\"spark.hadoop.fs.s3a.aws.credentials.provider\"="
                        + "\"com.amazonaws.auth.EnvironmentVariableCredentialsProvider\"",
                "--set",
                "spark.conf.\"spark.hadoop.fs.s3a.attempts.maximum\"=1");
        assertEquals(2, o.exitCode(), o.toString());
        assertTrue(
                o.stderr().contains("error: No credentials for object storage")
                        && o.stderr().contains("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
                o.toString());
    }

    @Test
    void unknownOptionExitsTwo() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "train", "--epochs", "3");
        assertEquals(2, o.exitCode(), o.toString());
        assertTrue(o.stderr().contains("Unknown options: '--epochs', '3'"), o.toString());
    }

    @Test
    void missingDatasetExitsTwoAndMarksTheRunFailed() throws Exception {
        CliProcess.Outcome o = CliProcess.run(
                work,
                "train",
                "--run-id",
                "nodata",
                "--set",
                "data.train.uri=/nope/fashion-mnist/train-images-idx3-ubyte.gz");
        assertEquals(2, o.exitCode(), o.toString());
        assertTrue(
                o.stderr().contains("error: Dataset not found: /nope/fashion-mnist/train-images-idx3-ubyte.gz"),
                o.toString());
        assertTrue(o.stderr().contains("apt-get install dataset-fashion-mnist"), o.toString());

        CliProcess.Outcome runs = CliProcess.run(
                work, "sql", "--format", "csv", "SELECT run_id, job, status, error IS NOT NULL AS has_error FROM runs");
        assertEquals(0, runs.exitCode(), runs.toString());
        assertTrue(runs.stdout().contains("nodata,train,failed,true"), runs.toString());

        CliProcess.Outcome typo = CliProcess.run(work, "sql", "SELECT * FROM evaluation");
        assertEquals(2, typo.exitCode(), typo.toString());
        assertTrue(
                typo.stderr().contains("error: Query failed:") && typo.stderr().contains("[runs]"), typo.toString());
    }

    @Test
    void corruptModelExitsOneAndPublishesNothing() throws Exception {
        Path model = work.resolve("broken.zip");
        Files.write(model, new byte[] {'P', 'K', 3, 4, 0, 0, 1, 2, 3});
        CliProcess.Outcome o =
                CliProcess.run(work, "publish", "--run-id", "bad", "--set", "model.path=\"" + model + "\"");
        assertEquals(1, o.exitCode(), o.toString());
        assertTrue(o.stderr().contains("is not a readable DL4J model zip"), o.toString());
        assertFalse(Files.exists(work.resolve("artifacts")), "nothing published");
    }
}
