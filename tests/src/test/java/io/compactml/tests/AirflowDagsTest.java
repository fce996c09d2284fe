package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Airflow DAGs checked with plain python3 (airflow-dags/check_dags.py) against what the jar says it has
 * ({@code compactml jobs --json}): the shipped DAGs pass, and a DAG with a wrong job, an unknown config key, a
 * cycle and no catchup is refused with each problem named.
 */
class AirflowDagsTest {
    private static final Path DAGS = CliProcess.ROOT.resolve("airflow-dags");

    @TempDir
    static Path work;

    private static Path jobsJson;

    @BeforeAll
    static void jobs() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "jobs", "--json");
        assertEquals(0, o.exitCode(), o.toString());
        jobsJson = Files.writeString(work.resolve("jobs.json"), o.stdout());
    }

    private static CliProcess.Outcome check(Path dags) throws Exception {
        return CliProcess.exec(
                work,
                Map.of(),
                List.of(
                        "python3",
                        DAGS.resolve("check_dags.py").toString(),
                        "--jobs-json",
                        jobsJson.toString(),
                        "--dags",
                        dags.toString(),
                        "--conf",
                        CliProcess.ROOT.resolve("conf").toString()));
    }

    @Test
    void shippedDagsMatchTheJar() throws Exception {
        CliProcess.Outcome o = check(DAGS);
        assertEquals(0, o.exitCode(), o.toString());
        assertTrue(o.stdout().contains("compactml_compression: 13 tasks, 12 dependencies"), o.stdout());
        assertTrue(o.stdout().contains("compactml_reevaluation: 4 tasks, 3 dependencies"), o.stdout());
    }

    @Test
    void brokenDagsAreRefusedWithEveryProblemNamed() throws Exception {
        Path broken = Files.createDirectories(work.resolve("broken"));
        Files.copy(DAGS.resolve("compactml_common.py"), broken.resolve("compactml_common.py"));
        String compression = Files.readString(DAGS.resolve("compactml_compression_dag.py"))
                        .replace("c.spark_job(\"quantize\", c.QUANTIZE", "c.spark_job(\"quantize\", \"quantise\"")
                        .replace("\"prune.target-sparsity\"", "\"prune.sparsty\"")
                        .replace("\"publish_student\"", "\"publish_pruned\"")
                + "    verify_int8 >> calibrate\n";
        Files.writeString(broken.resolve("compactml_compression_dag.py"), compression);
        String reevaluation =
                Files.readString(DAGS.resolve("compactml_reevaluation_dag.py")).replace("    catchup=False,\n", "");
        Files.writeString(broken.resolve("compactml_reevaluation_dag.py"), reevaluation);

        CliProcess.Outcome o = check(broken);
        assertEquals(1, o.exitCode(), o.toString());
        for (String problem : List.of(
                "no job 'quantise' in the jar",
                "unknown config key 'prune.sparsty'",
                "task id 'publish_pruned' also used",
                "dependency cycle: ",
                "DAG sets no catchup")) {
            assertTrue(o.stderr().contains(problem), problem + " in\n" + o.stderr());
        }
    }
}
