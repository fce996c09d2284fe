package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exit code is the contract with spark-submit and Airflow: 0 ok, 2 usage/config, 1 runtime failure; a failed
 * run is recorded as such. The catalogue of bad inputs is {@link BadInputsTest}.
 */
class ExitCodesTest {
    @TempDir
    Path work;

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
}
