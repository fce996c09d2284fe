package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The catalogue of bad inputs, each run through the CLI in its own JVM as a user would run it: the exit code (2:
 * fix the command or the data set's location, do not retry; 1: the data or model is corrupt, the store is down),
 * exactly one {@code error:} line saying what is wrong and what to do, and nothing written or published for the
 * run (no model, no artifact, no row in any table but its {@code failed} row in {@code runs}). The README's
 * Reliability section lists the same cases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputsTest {
    private Path work;
    private final List<String> failedRuns = new ArrayList<>();

    /**
     * One bad input: the arguments after the job name's run id, the exit code and a part of the one error line.
     */
    record Case(String name, int exit, String message, String job, String... args) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static String csv(String rel, String split) {
        return String.join(
                "\u0000",
                "--set",
                "data." + split + ".format=csv",
                "--set",
                "data." + split + ".uri=\"@W@/" + rel + "\"",
                "--set",
                "data." + split + ".features=\"f*\"",
                "--set",
                "data." + split + ".label=label",
                "--set",
                "data." + split + ".scaling=none");
    }

    private static final String SMALL = String.join(
            "\u0000", "--set", "network.hidden=[4]", "--set", "network.outputs=2", "--set", "train.epochs=1");

    private static String[] args(String... parts) {
        List<String> out = new ArrayList<>();
        for (String p : parts) {
            out.addAll(Arrays.asList(p.split("\u0000")));
        }
        return out.toArray(String[]::new);
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(
                        "unknown key",
                        2,
                        "Unknown config key 'train.epocs'. Did you mean: train.epochs?",
                        "train",
                        args("--set", "train.epocs=2")),
                new Case(
                        "bad value",
                        2,
                        "Config key 'train.epochs' has value 'many'",
                        "train",
                        args("--set", "train.epochs=many")),
                new Case(
                        "sparsity out of range",
                        2,
                        "Config key 'prune.sparsity' has value '1'; allowed: a number in" + " [0, 0.999]",
                        "prune",
                        args("--set", "prune.sparsity=1.0")),
                new Case(
                        "unknown option",
                        2,
                        "Unknown options: '--epochs', '3'. Run `compactml train --help`",
                        "train",
                        args("--epochs", "3")),
                new Case(
                        "a model name with ../",
                        2,
                        "Config key 'model.name' has value '../evil'",
                        "train",
                        args("--set", "model.name=\"../evil\"")),
                new Case(
                        "a run id with ../",
                        2,
                        "Config key '--run-id' has value '../evil'",
                        "train",
                        args("--run-id", "../evil")),
                new Case(
                        "a model name with a quote trains",
                        0,
                        null,
                        "train",
                        args(
                                csv("ok.csv", "train"),
                                csv("ok.csv", "eval"),
                                SMALL,
                                "--set",
                                "model.name=\"o'brien-mlp\"")),
                new Case(
                        "missing data",
                        2,
                        "Dataset not found: /nope/train-images-idx3-ubyte.gz",
                        "train",
                        args("--set", "data.train.uri=/nope/train-images-idx3-ubyte.gz")),
                new Case(
                        "empty data",
                        2,
                        "empty.csv has no rows",
                        "train",
                        args(csv("empty.csv", "train"), csv("ok.csv", "eval"), SMALL)),
                new Case(
                        "truncated IDX",
                        1,
                        "header promises 60000 records but the file ends",
                        "train",
                        args("--set", "data.train.uri=\"@W@/truncated-images.gz\"", "--set", "train.epochs=1")),
                new Case(
                        "corrupt IDX",
                        1,
                        "Corrupt IDX file",
                        "train",
                        args("--set", "data.train.uri=\"@W@/garbage-images\"", "--set", "train.epochs=1")),
                new Case(
                        "NaN and infinite features",
                        1,
                        "row 7: a feature is NaN or infinite",
                        "train",
                        args(csv("nan.csv", "train"), csv("ok.csv", "eval"), SMALL)),
                new Case(
                        "labels out of range",
                        1,
                        "row 3: label 7.0 is not a class index in [0, 1]",
                        "train",
                        args(csv("range.csv", "train"), csv("ok.csv", "eval"), SMALL)),
                new Case(
                        "labels that are strings",
                        2,
                        "label column 'label' holds text such as 'setosa'",
                        "train",
                        args(csv("text-labels.csv", "train"), csv("ok.csv", "eval"), SMALL)),
                new Case(
                        "column names with a dot and a quote train",
                        0,
                        null,
                        "train",
                        args(
                                csv("dots-and-quotes.csv", "train"),
                                csv("dots-and-quotes.csv", "eval"),
                                SMALL,
                                "--set",
                                "model.name=dotted")),
                new Case(
                        "shape mismatch",
                        2,
                        "Model expects 4 inputs, dataset",
                        "evaluate",
                        args(
                                "--set",
                                "model.path=\"@W@/warehouse/models/fmnist-mlp/ok/model.zip\"",
                                csv("wide.csv", "eval"))),
                new Case(
                        "corrupt zip",
                        1,
                        "is not a readable DL4J model zip",
                        "publish",
                        args("--set", "model.path=\"@W@/broken.zip\"")),
                new Case(
                        "a zip with a path-traversal entry",
                        1,
                        "is not a readable DL4J model zip",
                        "evaluate",
                        args("--set", "model.path=\"@W@/traversal.zip\"", csv("ok.csv", "eval"))),
                new Case(
                        "a missing upstream run",
                        2,
                        "calibration of model",
                        "quantize",
                        args(
                                "--set",
                                "quantize.calibration-run=never",
                                csv("ok.csv", "eval"),
                                "--set",
                                "model.path=\"@W@/warehouse/models/fmnist-mlp/ok/model.zip\"")),
                new Case(
                        "missing credentials",
                        2,
                        "No credentials for object storage",
                        "evaluate",
                        args(
                                "--set",
                                "model.path=\"s3a://compactml/models/m.zip\"",
                                "--set",
                                "spark.conf.\"spark.hadoop.fs.s3a.endpoint\"=\"http://127.0.0.1:9\"",
                                "--set",
                                "spark.conf.\"spark.hadoop.fs.s3a.aws.credentials.provider\"="
                                        + "\"com.amazonaws.auth.EnvironmentVariableCredentialsProvider\"",
                                "--set",
                                "spark.conf.\"spark.hadoop.fs.s3a.attempts.maximum\"=1")),
                new Case(
                        "an unreachable store",
                        1,
                        "Object storage unreachable",
                        "evaluate",
                        args(
                                "--config",
                                "@ROOT@/conf/s3-local.conf",
                                "--set",
                                "spark.conf.\"spark.hadoop.fs.s3a.endpoint\"=\"http://127.0.0.1:9\"",
                                "--set",
                                "tables.root=\"@W@/warehouse\"",
                                "--set",
                                "model.path=\"s3a://compactml/models/m.zip\"")));
    }

    @BeforeAll
    void writeInputsAndTrainOneModel() throws Exception {
        work = Files.createTempDirectory("compactml-bad-inputs");
        Random rnd = new Random(1);
        List<String> ok = new ArrayList<>(List.of("label,f0,f1,f2,f3"));
        List<String> nan = new ArrayList<>(List.of("label,f0,f1,f2,f3"));
        List<String> range = new ArrayList<>(List.of("label,f0,f1,f2,f3"));
        List<String> text = new ArrayList<>(List.of("label,f0,f1,f2,f3"));
        List<String> dotted = new ArrayList<>(List.of("label,f.0,f'1,\"f\"\"2\",f 3"));
        List<String> wide = new ArrayList<>(List.of("label,f0,f1,f2,f3,f4"));
        for (int i = 0; i < 200; i++) {
            double[] f = {rnd.nextDouble(), rnd.nextDouble(), rnd.nextDouble(), rnd.nextDouble()};
            int y = f[0] > 0.5 ? 1 : 0;
            String row = f[0] + "," + f[1] + "," + f[2] + "," + f[3];
            ok.add(y + "," + row);
            nan.add(y + "," + (i == 7 ? "NaN" : f[0]) + "," + f[1] + "," + (i == 9 ? "Infinity" : f[2]) + "," + f[3]);
            range.add((i == 3 ? 7 : y) + "," + row);
            text.add((y == 1 ? "setosa" : "versicolor") + "," + row);
            dotted.add(y + "," + row);
            wide.add(y + "," + row + ",0.5");
        }
        Files.write(work.resolve("ok.csv"), ok);
        Files.write(work.resolve("nan.csv"), nan);
        Files.write(work.resolve("range.csv"), range);
        Files.write(work.resolve("text-labels.csv"), text);
        Files.write(work.resolve("dots-and-quotes.csv"), dotted);
        Files.write(work.resolve("wide.csv"), wide);
        Files.writeString(work.resolve("empty.csv"), "label,f0,f1,f2,f3\n");
        // a third of the Fashion-MNIST training images, as a download cut short
        byte[] images = Files.readAllBytes(Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"));
        Files.write(work.resolve("truncated-images.gz"), Arrays.copyOf(images, images.length / 3));
        byte[] garbage = new byte[4096];
        rnd.nextBytes(garbage);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(garbage);
        }
        Files.write(work.resolve("garbage-images"), gz.toByteArray());
        Files.write(work.resolve("broken.zip"), new byte[] {'P', 'K', 3, 4, 0, 0, 1, 2, 3});
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(work.resolve("traversal.zip")))) {
            z.putNextEntry(new ZipEntry("../../evil.txt"));
            z.write('x');
            z.closeEntry();
            z.putNextEntry(new ZipEntry("configuration.json"));
            z.write("{}".getBytes());
            z.closeEntry();
        }
        CliProcess.Outcome trained = CliProcess.run(
                work, resolve(args("train", "--run-id", "ok", csv("ok.csv", "train"), csv("ok.csv", "eval"), SMALL)));
        assertEquals(0, trained.exitCode(), trained.toString());
    }

    private String[] resolve(String[] a) {
        return Arrays.stream(a)
                .map(s -> s.replace("@W@", work.toString()).replace("@ROOT@", CliProcess.ROOT.toString()))
                .toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aBadInputGetsItsExitCodeOneLineAndWritesNothing(Case c) throws Exception {
        String run = "bad-" + Integer.toHexString(c.name().hashCode());
        List<String> argv = new ArrayList<>(List.of(c.job()));
        if (!Arrays.asList(c.args()).contains("--run-id")) {
            argv.addAll(List.of("--run-id", run));
        }
        argv.addAll(Arrays.asList(resolve(c.args())));
        Map<String, String> env = c.name().equals("an unreachable store")
                ? Map.of("AWS_ACCESS_KEY_ID", "x", "AWS_SECRET_ACCESS_KEY", "y")
                : Map.of();
        CliProcess.Outcome o = CliProcess.run(work, env, argv.toArray(String[]::new));
        assertEquals(c.exit(), o.exitCode(), o.toString());
        if (c.exit() == 0) {
            return;
        }
        List<String> errors =
                o.stderr().lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errors.size(), "one error line: " + o);
        assertTrue(errors.get(0).contains(c.message()), errors.get(0));
        // Spark logs a failed task with its stack trace; the error line is the conclusion, stderr's last line
        List<String> lines = o.stderr().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(errors.get(0), lines.get(lines.size() - 1), "the error is the last line: " + o);
        assertFalse(Files.exists(work.resolve("artifacts")), "nothing published");
        assertFalse(Files.exists(work.resolve("warehouse/models/fmnist-mlp/" + run)), "no model written");
        failedRuns.add(run);
    }

    /** No run that failed left training history (the table every failed job here would have written first). */
    @AfterAll
    void noTableHoldsARowOfAFailedRun() throws Exception {
        CliProcess.Outcome tables =
                CliProcess.run(work, "sql", "--format", "csv", "SELECT DISTINCT run_id FROM training_history");
        assertEquals(0, tables.exitCode(), tables.toString());
        TreeSet<String> withRows = new TreeSet<>(tables.stdout().lines().skip(1).toList());
        for (String run : failedRuns) {
            assertFalse(withRows.contains(run), run + " failed but left rows: " + withRows);
        }
        assertTrue(withRows.contains("ok"), "the query sees the rows that are there: " + withRows);
    }
}
