package io.compactml.serve;

import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.config.CompactConfig;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code compactml-serve}: serves one published model over the Open Inference Protocol until SIGTERM. Exit codes:
 * 0 after a graceful stop, 2 for a usage or config error (or nothing published), 1 when the artifact cannot be
 * served (tampered, incomplete, refused by the runtime) or the port cannot be bound.
 */
@Command(
        name = "compactml-serve",
        mixinStandardHelpOptions = true,
        description = "Serve a published model (KServe v2 / Open Inference Protocol, JSON over HTTP).")
public final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = "--model", required = true, description = "Published model name (under artifacts.root).")
    String model;

    @Option(
            names = "--version",
            description = "Serve this version and no other; default: LATEST, watched for new ones.")
    String version;

    @Option(names = "--port", description = "Port to listen on (default serve.port).")
    Integer port;

    @Option(names = "--config", description = "HOCON config file (the jobs' format; serve.* and artifacts.root).")
    File config;

    @Option(names = "--set", description = "Config override key=value (repeatable).")
    List<String> sets = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Parses and runs; returns the exit code (blocks until the server stops). */
    static int execute(String... args) {
        CommandLine cl = new CommandLine(new ServeCommand());
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            CompactMLException known = Errors.known(e);
            c.getErr().println("error: " + (known != null ? known.getMessage() : e.toString()));
            c.getErr().flush();
            return known != null ? known.exitCode() : 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        List<String> all = new ArrayList<>(sets);
        if (port != null) {
            all.add("serve.port=" + port);
        }
        CompactConfig c = CompactConfig.load(config, all);
        ServeSettings settings = ServeSettings.from(c);
        org.apache.hadoop.conf.Configuration hadoop = HadoopFiles.configuration(c.getMap("spark.conf"));
        ArtifactStore store = new ArtifactStore(settings.artifactsRoot(), hadoop);
        String served = version != null
                ? version
                : store.latest(model).orElseThrow(() -> Errors.nothingPublished(model, settings.artifactsRoot()));
        ServeMetrics metrics = new ServeMetrics();
        ServedVersion first = ServedVersion.load(store, model, served, settings.threads());
        ModelSlot slot = new ModelSlot(store, first, settings.threads(), metrics);
        if (version == null) {
            slot.watchLatest(settings.pollIntervalMs());
        }
        InferenceLog log = InferenceLog.open(settings, model, hadoop, metrics);
        ModelServer server = new ModelServer(slot, settings, metrics, log);
        int bound;
        try {
            bound = server.start();
        } catch (RuntimeException e) {
            slot.close();
            throw Errors.cannotListen(settings.host(), settings.port(), e);
        }
        LOG.info(
                "Serving {} version {} on http://{}:{}/v2/models/{} (batching: {})",
                model,
                served,
                settings.host(),
                bound,
                model,
                settings.batching()
                        ? "up to " + settings.maxBatchSize() + " rows, " + settings.maxQueueDelayMs() + " ms"
                        : "off");
        awaitTermination(server, slot);
        return 0;
    }

    /** Blocks until SIGTERM or SIGINT, then drains and stops. */
    private static void awaitTermination(ModelServer server, ModelSlot slot) {
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
        }
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("Stopping: draining requests in flight");
        boolean drained = server.drain();
        slot.close();
        LOG.info(drained ? "Stopped, every request answered" : "Stopped, drain timeout hit with requests in flight");
    }
}
