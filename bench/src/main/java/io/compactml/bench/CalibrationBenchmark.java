package io.compactml.bench;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;

/**
 * Benchmark behind {@code bench/calibration.sh}: what the calibration pass costs over a plain batched inference
 * pass on the same examples, in one session. The calibration data is cached in memory first, so that neither
 * pass pays for reading files; then three passes:
 * <ul>
 *   <li>{@code data}: the minibatches are built and counted, nothing else;</li>
 *   <li>{@code inference}: every partition deserializes the model and runs {@code output} on its minibatches;</li>
 *   <li>{@code calibration}: {@link CalibrateJob#histograms}, the pass {@code calibrate} runs: the same forward
 *   pass keeping every activation, each value into its tensor's histogram, then the exact tree merge.</li>
 * </ul>
 */
@Command(
        name = "calibration-benchmark",
        mixinStandardHelpOptions = true,
        description = "Time the calibration pass against a plain inference pass on the same cached data.")
public final class CalibrationBenchmark extends PassBenchmark {
    public static void main(String[] args) {
        main(new CalibrationBenchmark(), args);
    }

    @Override
    protected String name() {
        return "calibration-benchmark";
    }

    @Override
    protected Passes prepare(JobContext ctx) {
        CompactConfig c = ctx.config();
        LoadedModel loaded = LoadedModel.read(ctx);
        String uri = loaded.uri();
        int inputs = ModelShapes.inputs(loaded.net());
        int batch = CalibrationSettings.from(c).batchSize();
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(c, "calibration"), inputs, batch);
        Dataset<Row> cached = data.rows().persist(StorageLevel.MEMORY_ONLY());
        long examples = cached.count();
        JavaRDD<DataSet> batches =
                SparkData.featureBatches(new SparkData.Loaded(data.spec(), cached, inputs), inputs, batch);
        Broadcast<byte[]> model = ctx.jsc().broadcast(loaded.zip());

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(DataSet::numExamples).reduce(Integer::sum));
        passes.put(
                "inference",
                () -> batches.mapPartitions((Iterator<DataSet> it) -> {
                            MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
                            long rows = 0;
                            while (it.hasNext()) {
                                rows += m.output(it.next().getFeatures(), false).rows();
                            }
                            return Collections.singletonList(rows).iterator();
                        })
                        .reduce(Long::sum));
        passes.put("calibration", () -> CalibrateJob.histograms(batches, model, uri));
        Console.out(
                "%,d examples, %d partitions, master %s, batch %d, OMP_NUM_THREADS=%s",
                examples,
                batches.getNumPartitions(),
                ctx.spark().sparkContext().master(),
                batch,
                System.getenv("OMP_NUM_THREADS"));
        return new Passes(passes, "calibration", "inference", () -> {
            model.destroy();
            cached.unpersist();
        });
    }
}
