package io.compactml.bench;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.ChannelEntropy;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 *   <li>{@code activations}: the forward pass the entropy pass runs ({@code feedForwardToLayer} up to the last
 *   hidden layer, every layer's activations kept), nothing else;</li>
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
        CompactConfig c = ctx.config();
        LoadedModel loaded = LoadedModel.read(ctx);
        MultiLayerNetwork net = loaded.net();
        int inputs = ModelShapes.inputs(net);
        int batch = ImportanceSettings.from(c).batchSize();
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(c, "train"), inputs, batch);
        Dataset<Row> cached = data.rows().persist(StorageLevel.MEMORY_ONLY());
        long examples = cached.count();
        JavaRDD<Tuple2<Long, DataSet>> batches =
                SparkData.numberedFeatureBatches(new SparkData.Loaded(data.spec(), cached, inputs), inputs, batch);
        Broadcast<byte[]> model = ctx.jsc().broadcast(loaded.zip());
        String uri = loaded.uri();

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(b -> b._2().numExamples()).reduce(Integer::sum));
        passes.put(
                "inference",
                () -> batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
                            MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
                            double sum = 0;
                            while (it.hasNext()) {
                                sum += m.output(it.next()._2().getFeatures()).getDouble(0);
                            }
                            return Collections.singletonList(sum).iterator();
                        })
                        .reduce(Double::sum));
        int last = ChannelEntropy.hiddenLayers(net)[ChannelEntropy.hiddenLayers(net).length - 1];
        passes.put(
                "activations",
                () -> batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
                            MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
                            double sum = 0;
                            while (it.hasNext()) {
                                List<INDArray> a = m.feedForwardToLayer(
                                        last, it.next()._2().getFeatures(), false);
                                sum += a.get(a.size() - 1).getDouble(0);
                            }
                            return Collections.singletonList(sum).iterator();
                        })
                        .reduce(Double::sum));
        passes.put("entropy", () -> ImportanceJob.entropy(batches, model, uri));
        Console.out(
                "%,d examples, %d partitions, master %s, batch %d, %,d parameters, %d scored layers",
                examples,
                batches.getNumPartitions(),
                ctx.spark().sparkContext().master(),
                batch,
                net.numParams(),
                ChannelEntropy.hiddenLayers(net).length);
        return new Passes(passes, "entropy", "inference", () -> {
            model.destroy();
            cached.unpersist();
        });
    }
}
