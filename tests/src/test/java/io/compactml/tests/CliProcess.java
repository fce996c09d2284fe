package io.compactml.tests;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code io.compactml.jobs.Main} in a separate JVM, as bin/compactml does, or one of the bin/ scripts, and
 * captures the outcome.
 */
final class CliProcess {
    /** The project's root directory (the surefire configuration names it). */
    static final Path ROOT =
            Path.of(System.getProperty("compactml.root", "..")).toAbsolutePath().normalize();

    private CliProcess() {}

    record Outcome(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
        }
    }

    static Outcome run(Path workDir, String... args) throws IOException, InterruptedException {
        return run(workDir, Map.of(), args);
    }

    /** {@code compactml <args>} in {@code workDir} with {@code env} added to the environment. */
    static Outcome run(Path workDir, Map<String, String> env, String... args) throws IOException, InterruptedException {
        return exec(workDir, env, command(args));
    }

    /**
     * {@code compactml <args>} started in {@code workDir}, not waited for (its output discarded): for a test that
     * kills the driver.
     */
    static Process start(Path workDir, Map<String, String> env, String... args) throws IOException {
        return builder(workDir, env, command(args))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static List<String> command(String... args) {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx3g",
                "-XX:TieredStopAtLevel=1"));
        // the same Java 17 module flags Spark needs, as this test JVM got them from surefire's argLine
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-Djdk.reflect") || arg.startsWith("-Daeron")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(List.of("-cp", cp, "io.compactml.jobs.Main"));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /** {@code cmd} in {@code workDir} with the environment every CompactML process of the tests gets, plus {@code env}. */
    static ProcessBuilder builder(Path workDir, Map<String, String> env, List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().putAll(env);
        return pb;
    }

    /** {@code bin/<script> <args>} in {@code workDir} with {@code env} added to the environment. */
    static Outcome script(Path workDir, Map<String, String> env, String script, String... args)
            throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(List.of(ROOT.resolve("bin").resolve(script).toString()));
        cmd.addAll(Arrays.asList(args));
        return exec(workDir, env, cmd);
    }

    static Outcome exec(Path workDir, Map<String, String> env, List<String> cmd)
            throws IOException, InterruptedException {
        File out = Files.createTempFile("cli", ".out").toFile();
        File err = Files.createTempFile("cli", ".err").toFile();
        Process p = builder(workDir, env, cmd)
                .redirectOutput(out)
                .redirectError(err)
                .start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in 10 minutes");
        }
        try {
            return new Outcome(
                    p.exitValue(),
                    Files.readString(out.toPath(), StandardCharsets.UTF_8),
                    Files.readString(err.toPath(), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }

    /** Rows per named query in the CSV output of {@code compactml sql --format csv --file F}. */
    static Map<String, Integer> rowsPerQuery(String stdout) {
        Map<String, Integer> rows = new java.util.LinkedHashMap<>();
        String current = null;
        for (String line : stdout.split("\n")) {
            if (line.startsWith("-- name: ")) {
                current = line.substring("-- name: ".length()).strip();
                rows.put(current, -1); // the header line follows
            } else if (current != null && !line.isBlank()) {
                rows.merge(current, 1, Integer::sum);
            }
        }
        return rows;
    }
}
