package io.compactml.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code compactml-serve} (the shaded server jar, as {@code java -jar} runs it) in its own process, and an HTTP
 * client for it: the test process is the other process a real client is.
 */
final class ServeProcess implements AutoCloseable {
    static final Path JAR = CliProcess.ROOT.resolve("serve/target/compactml-serve-0.1.0-SNAPSHOT-all.jar");
    private static final Pattern SERVING = Pattern.compile("Serving .* on http://[^:]+:(\\d+)/");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process process;
    private final Path stderr;
    private int port = -1;

    private ServeProcess(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
    }

    /** Starts the server with {@code args} (port 0: any free one) in {@code workDir} with {@code env} added. */
    static ServeProcess start(Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-jar",
                JAR.toString(),
                "--port",
                "0"));
        cmd.addAll(List.of(args));
        Path stderr = Files.createTempFile(workDir, "serve", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile());
        pb.environment().putAll(env);
        return new ServeProcess(pb.start(), stderr);
    }

    /** Waits until the server listens (true) or the process ends (false), at most 120 s. */
    boolean awaitServing() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (port() < 0 && process.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return port() > 0;
    }

    /** The port from the server's "Serving ... on http://host:port/" line, -1 before it. */
    private int port() {
        if (port < 0) {
            Matcher m = SERVING.matcher(log());
            port = m.find() ? Integer.parseInt(m.group(1)) : -1;
        }
        return port;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** SIGTERM (through the process handle: Process.destroy would also close the streams), then the exit code. */
    int stop() throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the server did not stop within 60 s of SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    /** The exit code once the process ended by itself (at most 120 s). */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the server did not exit:\n" + log());
        }
        return process.exitValue();
    }

    /** What the server logged so far. */
    String log() {
        try {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
