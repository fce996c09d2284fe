package io.compactml.bench;

import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.jobs.cli.JobOptions;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.JobRunner;
import io.compactml.jobs.runtime.LoadedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What the pass benchmarks share: the job options, a run through {@link JobRunner} (so a benchmark is
 * configured and recorded like a job), and the timing. A benchmark caches its data and names its passes over
 * it, the first being the data pass (minibatches built, nothing else); each pass runs once to warm up, then
 * the passes run in turn {@code --repeats} times (interleaved, so that a slow spell of the machine hits all of
 * them), and the median of each is printed. Then {@code measured / baseline} is printed as it is and with the
 * data pass taken out of both.
 */
public abstract class PassBenchmark implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of each pass (default 3).")
    int repeats;

    /** Passes to time, in order, the data pass first; the two compared; what to release afterwards. */
    protected record Passes(Map<String, Runnable> passes, String measured, String baseline, Runnable cleanup) {}

    /** The job's model, a data set read for its input and cached in memory, and the model's broadcast. */
    protected record Cached(LoadedModel model, SparkData.Loaded data, long examples, Broadcast<byte[]> zip) {
        /** The number of parameters of the model. */
        long parameters() {
            return model.net().numParams();
        }

        /** Releases the broadcast and the cached rows. */
        void release() {
            zip.destroy();
            data.rows().unpersist();
        }
    }

    /** The job's model and data set {@code split} ({@code data.<split>}) read for it at {@code batch}, cached. */
    protected static Cached cache(JobContext ctx, String split, int batch) {
        LoadedModel loaded = LoadedModel.read(ctx);
        int inputs = ModelShapes.inputs(loaded.net());
        SparkData.Loaded data =
                SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), split), loaded.net(), batch);
        Dataset<Row> rows = data.rows().persist(StorageLevel.MEMORY_ONLY());
        long examples = rows.count();
        return new Cached(
                loaded,
                new SparkData.Loaded(data.spec(), rows, inputs),
                examples,
                ctx.jsc().broadcast(loaded.zip()));
    }

    /** A plain inference pass: per partition the model deserialized once and {@code output} of every minibatch. */
    protected static Runnable inference(JavaRDD<DataSet> batches, Broadcast<byte[]> model, String uri) {
        return () -> batches.mapPartitions((Iterator<DataSet> it) -> {
                    MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
                    long rows = 0;
                    while (it.hasNext()) {
                        rows += m.output(it.next().getFeatures(), false).rows();
                    }
                    return Collections.singletonList(rows).iterator();
                })
                .reduce(Long::sum);
    }

    /**
     * A plain inference pass in ONNX Runtime: per partition the ONNX model loaded once (one intra-op thread: a task
     * has one core) and run on every minibatch.
     */
    protected static Runnable onnxInference(JavaRDD<DataSet> batches, Broadcast<byte[]> onnx) {
        return () -> batches.mapPartitions((Iterator<DataSet> it) -> {
                    try (OnnxSession s = OnnxSession.of(onnx.value(), 1)) {
                        long rows = 0;
                        while (it.hasNext()) {
                            rows += s.output(it.next().getFeatures()).rows();
                        }
                        return Collections.singletonList(rows).iterator();
                    }
                })
                .reduce(Long::sum);
    }

    /** The name the benchmark runs under (its row in {@code runs}). */
    protected abstract String name();

    /** Caches the data, prints what is measured, and returns the passes over it. */
    protected abstract Passes prepare(JobContext ctx);

    /** Runs {@code benchmark} with command-line {@code args} and exits with its exit code. */
    protected static void main(PassBenchmark benchmark, String[] args) {
        System.exit(new CommandLine(benchmark).execute(args));
    }

    @Override
    public Integer call() {
        JobRunner.run(name(), options.load(), options.runId(name()), this::measure);
        return 0;
    }

    private void measure(JobContext ctx) {
        Passes p = prepare(ctx);
        try {
            Map<String, Double> median = medians(p.passes(), repeats);
            double data = median.values().iterator().next();
            double measured = median.get(p.measured());
            double baseline = median.get(p.baseline());
            Console.out("%s / %s = %.3f", p.measured(), p.baseline(), measured / baseline);
            Console.out(
                    "%s / %s, data pass taken out of both = %.3f",
                    p.measured(), p.baseline(), (measured - data) / (baseline - data));
        } finally {
            p.cleanup().run();
        }
    }

    static Map<String, Double> medians(Map<String, Runnable> passes, int repeats) {
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        passes.forEach((name, pass) -> {
            pass.run();
            seconds.put(name, new ArrayList<>());
        });
        for (int r = 0; r < repeats; r++) {
            passes.forEach((name, pass) -> {
                long t0 = System.nanoTime();
                pass.run();
                seconds.get(name).add((System.nanoTime() - t0) / 1e9);
            });
        }
        Map<String, Double> median = new LinkedHashMap<>();
        seconds.forEach((name, s) -> {
            median.put(name, median(s));
            Console.out("%-12s pass: median %.3f s of %s", name, median.get(name), s);
        });
        return median;
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
