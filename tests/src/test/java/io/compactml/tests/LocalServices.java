package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local S3 server and standalone Spark cluster of the end-to-end tests, started and stopped through
 * bin/s3-local and bin/spark-local, as a person trying CompactML would, each on free ports in its own directory.
 */
final class LocalServices {
    /**
     * The secret key bin/s3-local's S3Proxy accepts in these tests (S3_LOCAL_SECRET): random per test JVM, so that
     * a test can look for it in everything a run wrote.
     */
    static final String SECRET =
            "s3secret" + java.util.UUID.randomUUID().toString().replace("-", "");

    /** What bin/s3-local's S3Proxy accepts; the jobs read them from the environment, never from config. */
    static final Map<String, String> CREDENTIALS =
            Map.of("AWS_ACCESS_KEY_ID", "compactml-local", "AWS_SECRET_ACCESS_KEY", SECRET, "S3_LOCAL_SECRET", SECRET);

    private static final Pattern STARTED_IN = Pattern.compile(" in (\\d+) ms");

    private LocalServices() {}

    /** S3Proxy with the filesystem backend: the bucket {@code compactml} is a directory, {@link #bucket()}. */
    static final class S3 {
        final Path dir;
        final int port = freePort();
        /** Milliseconds the last start took, from the script's own measurement. */
        long startMillis;

        S3(Path dir) {
            this.dir = dir;
        }

        Map<String, String> env() {
            Map<String, String> env = new HashMap<>(CREDENTIALS);
            env.put("S3_LOCAL_DIR", dir.toString());
            env.put("S3_LOCAL_PORT", Integer.toString(port));
            env.put("S3_LOCAL_JAR", System.getProperty("compactml.s3proxy.jar", ""));
            return env;
        }

        S3 start() throws Exception {
            CliProcess.Outcome o = CliProcess.script(dir.getParent(), env(), "s3-local", "start");
            assertEquals(0, o.exitCode(), o.toString());
            startMillis = millis(o);
            return this;
        }

        void stop() throws Exception {
            CliProcess.script(dir.getParent(), env(), "s3-local", "stop");
        }

        /** Stops the server the hard way (SIGKILL): in-flight requests are cut, nothing is flushed. */
        void kill() {
            try {
                long pid = Long.parseLong(
                        Files.readString(dir.resolve("s3proxy.pid")).trim());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Path bucket() {
            return dir.resolve("data/compactml");
        }

        /**
         * A config file in {@code workDir} that includes the shipped {@code conf/<base>} and points S3A at this
         * server's port.
         */
        Path config(Path workDir, String base) throws IOException {
            Path conf = workDir.resolve("s3-" + port + ".conf");
            Files.writeString(
                    conf,
                    "include file(\"" + CliProcess.ROOT.resolve("conf").resolve(base) + "\")\n"
                            + "spark.conf { \"spark.hadoop.fs.s3a.endpoint\" = \"http://127.0.0.1:" + port + "\" }\n");
            return conf;
        }
    }

    /** A Spark standalone Master and two Workers on 127.0.0.1, and spark-submit against them. */
    static final class Cluster {
        final Path dir;
        final int masterPort = freePort();
        final int uiPort = freePort();
        long startMillis;

        Cluster(Path dir) {
            this.dir = dir;
        }

        Map<String, String> env() {
            Map<String, String> env = new HashMap<>(CREDENTIALS);
            env.put("SPARK_LOCAL_DIR", dir.toString());
            env.put("SPARK_LOCAL_MASTER_PORT", Integer.toString(masterPort));
            env.put("SPARK_LOCAL_UI_PORT", Integer.toString(uiPort));
            return env;
        }

        Cluster start() throws Exception {
            CliProcess.Outcome o = CliProcess.script(dir.getParent(), env(), "spark-local", "start");
            assertEquals(0, o.exitCode(), o.toString());
            startMillis = millis(o);
            return this;
        }

        void stop() throws Exception {
            CliProcess.script(dir.getParent(), env(), "spark-local", "stop");
        }

        /** {@code spark-submit --master spark://127.0.0.1:<port> --class io.compactml.jobs.Main <jar> <args>}. */
        CliProcess.Outcome submit(Path workDir, String... args) throws Exception {
            String[] all = new String[args.length + 1];
            all[0] = "submit";
            System.arraycopy(args, 0, all, 1, args.length);
            return CliProcess.script(workDir, env(), "spark-local", all);
        }

        /** {@link #submit} started, not waited for (its output discarded). */
        Process startSubmit(Path workDir, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(
                    List.of(CliProcess.ROOT.resolve("bin/spark-local").toString(), "submit"));
            cmd.addAll(Arrays.asList(args));
            return CliProcess.builder(workDir, env(), cmd)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        }

        /** Kills Worker {@code i} and its executors the hard way, as when its machine is lost. */
        void killWorker(int i) throws IOException {
            long pid = Long.parseLong(
                    Files.readString(dir.resolve("worker-" + i + ".pid")).trim());
            ProcessHandle.of(pid).ifPresent(worker -> {
                worker.descendants().forEach(ProcessHandle::destroyForcibly);
                worker.destroyForcibly();
            });
        }

        /** The work directory of Worker {@code i} (1-based), where its executors' logs go. */
        Path workerDir(int i) {
            return dir.resolve("work-" + i);
        }
    }

    private static long millis(CliProcess.Outcome o) {
        Matcher m = STARTED_IN.matcher(o.stdout());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
