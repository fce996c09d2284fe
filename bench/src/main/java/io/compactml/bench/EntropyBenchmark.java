package io.compactml.bench;

import io.compactml.common.prune.ChannelEntropy;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import scala.Tuple2;

/**
 * Benchmark behind {@code bench/entropy-pruning.sh}: what the entropy pass costs over a plain inference pass on
 * the same examples, in one session and the same runtime (DL4J). {@code data.train} is cached in memory first;
 * then:
 * <ul>
 *   <li>{@code data}: the numbered feature minibatches are built and counted, nothing else;</li>
 *   <li>{@code inference}: every partition deserializes the model and computes the output of every minibatch
 *   ({@code output}), keeping nothing;</li>
 *   <li>{@code entropy}: {@link ImportanceJob#entropy}, the pass {@code importance} runs for the entropy
 *   criterion: a forward pass keeping every layer's activations, each hidden channel's values added to its
 *   histogram, then the tree reduction.</li>
 * </ul>
 */
@Command(
        name = "entropy-benchmark",
        mixinStandardHelpOptions = true,
        description = "Time the entropy pass against a plain inference pass on the same cached data.")
public final class EntropyBenchmark extends PassBenchmark {
    public static void main(String[] args) {
        main(new EntropyBenchmark(), args);
    }

    @Override
    protected String name() {
        return "entropy-benchmark";
    }

    @Override
    protected Passes prepare(JobContext ctx) {
        int batch = ImportanceSettings.from(ctx.config()).batchSize();
        Cached data = cache(ctx, "train", batch);
        MultiLayerNetwork net = data.model().net();
        JavaRDD<Tuple2<Long, DataSet>> batches =
                SparkData.numberedFeatureBatches(data.data(), data.data().inputs(), batch);
        int[] scored = ChannelEntropy.hiddenLayers(net);

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(b -> b._2().numExamples()).reduce(Integer::sum));
        passes.put(
                "inference",
                inference(batches.map(Tuple2::_2), data.zip(), data.model().uri()));
        passes.put(
                "entropy",
                () -> ImportanceJob.entropy(batches, data.zip(), data.model().uri()));
        Console.out(
                "%,d examples, %d partitions, master %s, batch %d, %,d parameters, %d scored layers",
                data.examples(),
                batches.getNumPartitions(),
                ctx.spark().sparkContext().master(),
                batch,
                data.parameters(),
                scored.length);
        return new Passes(passes, "entropy", "inference", data::release);
    }
}
