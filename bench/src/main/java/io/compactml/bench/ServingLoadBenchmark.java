package io.compactml.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load generator behind {@code bench/serving-load.sh}: closed-loop clients on loopback, each sending one-row
 * infer requests (Open Inference Protocol JSON, 784 features) back to back over its own keep-alive connection, for
 * {@code --seconds} or {@code --max-requests}, whichever ends first. Per client count: requests/s, p50 and p99 of
 * the client's latency, failed requests (anything but 200), and the server's own mean time per request from its
 * {@code /metrics} (the difference to the client's is HTTP and the client itself, on the same cores).
 */
@Command(name = "serving-load", mixinStandardHelpOptions = true, description = "Load a compactml-serve endpoint.")
public final class ServingLoadBenchmark implements Callable<Integer> {
    @Option(names = "--server", required = true, description = "Base URL, e.g. http://127.0.0.1:8080.")
    String server;

    @Option(names = "--model", required = true, description = "Model name.")
    String model;

    @Option(names = "--label", defaultValue = "", description = "What the lines printed are about.")
    String label;

    @Option(names = "--clients", split = ",", defaultValue = "1,8,32", description = "Concurrent clients per run.")
    List<Integer> clients;

    @Option(names = "--seconds", defaultValue = "5", description = "Length of each run (s).")
    double seconds;

    @Option(names = "--max-requests", defaultValue = "200000", description = "Most requests of each run.")
    long maxRequests;

    @Option(names = "--features", defaultValue = "784", description = "Features per row.")
    int features;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Pattern SUM = Pattern.compile("(?m)^compactml_serve_request_seconds_sum (\\S+)$");
    private static final Pattern COUNT = Pattern.compile("(?m)^compactml_serve_request_seconds_count (\\S+)$");

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServingLoadBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        String[] bodies = bodies(64);
        long failedTotal = 0;
        for (int c : clients) {
            failedTotal += run(c, bodies);
        }
        return failedTotal == 0 ? 0 : 1;
    }

    private String[] bodies(int n) {
        Random rnd = new Random(1);
        String[] out = new String[n];
        for (int k = 0; k < n; k++) {
            StringBuilder b = new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,");
            b.append(features).append("],\"data\":[");
            for (int i = 0; i < features; i++) {
                b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", rnd.nextFloat()));
            }
            out[k] = b.append("]}]}").toString();
        }
        return out;
    }

    private long run(int clients, String[] bodies) throws Exception {
        double[] before = serverTime();
        URI infer = URI.create(server + "/v2/models/" + model + "/infer");
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        AtomicLong sent = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<long[]> latencies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < clients; t++) {
            long[] own = new long[(int) Math.min(maxRequests, 2_000_000) + 1];
            latencies.add(own);
            int first = t;
            Thread thread = new Thread(() -> {
                int k = first;
                int n = 0;
                try {
                    go.await();
                    while (System.nanoTime() < deadline && sent.incrementAndGet() <= maxRequests) {
                        long t0 = System.nanoTime();
                        if (!ok(infer, bodies[k++ % bodies.length])) {
                            failed.incrementAndGet();
                        }
                        own[++n] = System.nanoTime() - t0;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                own[0] = n;
            });
            thread.start();
            threads.add(thread);
        }
        long start = System.nanoTime();
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        double[] after = serverTime();
        report(clients, latencies, elapsed, failed.get(), before, after);
        return failed.get();
    }

    private static boolean ok(URI infer, String body) {
        try {
            HttpResponse<Void> r = HTTP.send(
                    HttpRequest.newBuilder(infer)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private void report(
            int clients, List<long[]> latencies, double elapsed, long failed, double[] before, double[] after) {
        int total = latencies.stream().mapToInt(l -> (int) l[0]).sum();
        long[] all = new long[total];
        int at = 0;
        for (long[] l : latencies) {
            System.arraycopy(l, 1, all, at, (int) l[0]);
            at += (int) l[0];
        }
        Arrays.sort(all);
        double serverMs = (after[0] - before[0]) / Math.max(1, after[1] - before[1]) * 1e3;
        System.out.printf(
                Locale.ROOT,
                "load %-22s clients %3d  requests %7d  %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  failed %d"
                        + "  server %.3f ms/request%n",
                label,
                clients,
                total,
                total / elapsed,
                percentile(all, 0.50) / 1e6,
                percentile(all, 0.99) / 1e6,
                failed,
                serverMs);
    }

    private static double percentile(long[] sorted, double q) {
        return sorted.length == 0
                ? Double.NaN
                : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** The server's {request seconds sum, request count} from its metrics. */
    private double[] serverTime() throws Exception {
        String metrics = HTTP.send(
                        HttpRequest.newBuilder(URI.create(server + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        return new double[] {value(SUM, metrics), value(COUNT, metrics)};
    }

    private static double value(Pattern p, String metrics) {
        Matcher m = p.matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
