package io.compactml.bench;

import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;
import scala.Tuple2;

/**
 * Benchmark behind {@code bench/pruning.sh}: what the importance pass costs over a plain forward and backward
 * pass on the same examples, in one session. {@code data.train} is cached in memory first; then:
 * <ul>
 *   <li>{@code data}: the numbered minibatches are built and counted, nothing else;</li>
 *   <li>{@code fwd+bwd}: every partition deserializes the model and computes the gradient of every minibatch
 *   ({@code computeGradientAndScore}), keeping nothing;</li>
 *   <li>{@code importance}: {@link ImportanceJob#accumulate}, the pass {@code importance} runs: the same
 *   gradients, each folded into the Taylor and Fisher sums, then the tree reduction.</li>
 * </ul>
 */
@Command(
        name = "importance-benchmark",
        mixinStandardHelpOptions = true,
        description = "Time the importance pass against a plain forward+backward pass on the same cached data.")
public final class ImportanceBenchmark extends PassBenchmark {
    public static void main(String[] args) {
        main(new ImportanceBenchmark(), args);
    }

    @Override
    protected String name() {
        return "importance-benchmark";
    }

    @Override
    protected Passes prepare(JobContext ctx) {
        int batch = ImportanceSettings.from(ctx.config()).batchSize();
        Cached data = cache(ctx, "train", batch);
        MultiLayerNetwork net = data.model().net();
        int inputs = data.data().inputs();
        JavaRDD<Tuple2<Long, DataSet>> batches = SparkData.numberedMinibatches(
                data.data(), inputs, ModelShapes.outputs(net), ModelShapes.task(net), batch);
        Broadcast<byte[]> model = data.zip();
        String uri = data.model().uri();

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(b -> b._2().numExamples()).reduce(Integer::sum));
        passes.put(
                "fwd+bwd",
                () -> batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
                            MultiLayerNetwork m = ModelIO.fromBytes(model.value(), uri);
                            double score = 0;
                            while (it.hasNext()) {
                                DataSet ds = it.next()._2();
                                m.setInput(ds.getFeatures());
                                m.setLabels(ds.getLabels());
                                m.computeGradientAndScore();
                                score += m.score();
                            }
                            return Collections.singletonList(score).iterator();
                        })
                        .reduce(Double::sum));
        passes.put("importance", () -> ImportanceJob.accumulate(batches, model, uri));
        Console.out(
                "%,d examples, %d partitions, master %s, batch %d, OMP_NUM_THREADS=%s, %,d parameters",
                data.examples(),
                batches.getNumPartitions(),
                ctx.spark().sparkContext().master(),
                batch,
                System.getenv("OMP_NUM_THREADS"),
                data.parameters());
        return new Passes(passes, "importance", "fwd+bwd", data::release);
    }
}
