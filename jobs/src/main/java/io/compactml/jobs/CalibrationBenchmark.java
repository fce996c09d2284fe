package io.compactml.jobs;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Benchmark behind {@code bench/calibration.sh}: what the calibration pass costs over a plain batched inference
 * pass on the same examples, in one session. The calibration data is cached in memory first, so that neither
 * pass pays for reading files; then three passes run in turn, each {@code --repeats} times after one warm-up:
 * <ul>
 *   <li>{@code data}: the minibatches are built and counted, nothing else;</li>
 *   <li>{@code inference}: every partition deserializes the model and runs {@code output} on its minibatches;</li>
 *   <li>{@code calibration}: {@link CalibrateJob#histograms}, the pass {@code calibrate} runs: the same forward
 *   pass keeping every activation, each value into its tensor's histogram, then the exact tree merge.</li>
 * </ul>
 * Prints the median seconds of each and the ratio calibration / inference, also with the data pass taken
 * out of both.
 */
@Command(name = "calibration-benchmark", mixinStandardHelpOptions = true,
        description = "Time the calibration pass against a plain inference pass on the same cached data.")
public final class CalibrationBenchmark implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs of each pass (default 3).")
    int repeats;

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new CalibrationBenchmark());
        System.exit(cl.execute(args));
    }

    @Override
    public Integer call() {
        JobRunner.run("calibration-benchmark", options, this::measure);
        return 0;
    }

    private void measure(JobContext ctx) {
        CompactConfig c = ctx.config();
        LoadedModel loadedModel = LoadedModel.read(ctx);
        String uri = loadedModel.uri();
        byte[] zip = loadedModel.zip();
        MultiLayerNetwork net = loadedModel.net();
        int inputs = ModelShapes.inputs(net);
        int batch = c.getInt("calibrate.batch-size");
        SparkData.Loaded loaded = SparkData.loadFor(ctx.spark(), DatasetSpec.from(c, "calibration"), inputs, batch);
        Dataset<Row> cached = loaded.rows().persist(StorageLevel.MEMORY_ONLY());
        long examples = cached.count();
        JavaRDD<DataSet> batches = SparkData.featureBatches(new SparkData.Loaded(loaded.spec(), cached, inputs),
                inputs, batch);
        Broadcast<byte[]> model = ctx.jsc().broadcast(zip);

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(DataSet::numExamples).reduce(Integer::sum));
        passes.put("inference", () -> batches.mapPartitions((Iterator<DataSet> it) -> {
            MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
            long rows = 0;
            while (it.hasNext()) {
                rows += m.output(it.next().getFeatures(), false).rows();
            }
            return Collections.singletonList(rows).iterator();
        }).reduce(Long::sum));
        passes.put("calibration", () -> CalibrateJob.histograms(batches, model, uri));

        Console.out("%,d examples, %d partitions, master %s, batch %d, OMP_NUM_THREADS=%s", examples,
                batches.getNumPartitions(), ctx.spark().sparkContext().master(), batch,
                System.getenv("OMP_NUM_THREADS"));
        Map<String, Double> median = PassTimer.medians(passes, repeats);
        double data = median.get("data");
        double inference = median.get("inference");
        double calibration = median.get("calibration");
        Console.out("calibration / inference = %.3f", calibration / inference);
        Console.out("calibration / inference, data pass taken out of both = %.3f",
                (calibration - data) / (inference - data));
        model.destroy();
        cached.unpersist();
    }
}
