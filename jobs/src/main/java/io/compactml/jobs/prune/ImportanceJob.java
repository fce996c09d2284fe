package io.compactml.jobs.prune;

import io.compactml.common.Errors;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.ChannelEntropy;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.common.prune.MinibatchStatistics;
import io.compactml.common.prune.PruneSelection;
import io.compactml.common.prune.Pruning;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.ParamImportanceRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import scala.Tuple2;

/**
 * {@code importance}: importance scores of every weight tensor, or of every channel of the hidden layers.
 * {@code magnitude} is |w| and needs no data; {@code taylor} and {@code fisher} come from one distributed forward
 * and backward pass over {@code data.train}: every partition deserializes the model once and adds each
 * minibatch's gradient statistics to an {@link ImportanceAccumulator} (4 doubles a weight: executor memory is
 * O(parameters), whatever the data size), and the partial sums are tree-reduced. {@code entropy} comes from one
 * distributed forward pass (labels not read) into per-channel activation histograms ({@link ChannelEntropy}),
 * merged exactly; asked for together with a gradient criterion, it is a second pass over the same data.
 *
 * <p>Writes {@code param_importance}, one row per criterion and scored layer: the scores as an array (c-order
 * over the weight tensor's shape, tensor {@code W}; or one per output channel, tensor {@code channels}) and
 * summary statistics, plus the stability of the ranking: the overlap of the pruned sets chosen at
 * {@code importance.stability-sparsity} from the even and from the odd minibatches.
 */
public final class ImportanceJob {
    private final JobContext ctx;

    public ImportanceJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Scores per criterion (one array per scored layer: per weight of its W, c-order, or for {@code entropy} per
     * output channel), the layers each criterion scored ({@code layers} are every weight layer; entropy scores the
     * hidden ones), and their stability.
     */
    public record Result(
            String modelSha256,
            int[] layers,
            Map<Criterion, float[][]> scores,
            Map<Criterion, int[]> scoredLayers,
            long batches,
            long examples,
            Map<Criterion, Double> globalOverlap) {}

    /**
     * The scores of one criterion for each of {@code layers}: all the data's, and the even and odd halves' (null
     * for magnitude); the pass over data they come from (0 examples for magnitude).
     */
    private record Scored(int[] layers, float[][] all, float[][] even, float[][] odd, long batches, long examples) {}

    public Result run() {
        return compute(LoadedModel.read(ctx), ImportanceSettings.from(ctx.config()));
    }

    public Result compute(LoadedModel model, ImportanceSettings settings) {
        MultiLayerNetwork net = model.net();
        int[] layers = Pruning.weightLayers(net);
        if (settings.needsEntropy() && ChannelEntropy.hiddenLayers(net).length == 0) {
            throw Errors.badConfigValue(
                    "importance.criteria",
                    settings.criteria().stream().map(Criterion::id).toList(),
                    "criteria without entropy for this model: entropy scores the channels of hidden layers, and it"
                            + " has none (only its output layer has weights)");
        }
        ImportanceAccumulator acc = settings.needsGradients() ? gradients(model, settings) : null;
        ChannelEntropy entropy = settings.needsEntropy() ? entropy(model, settings) : null;
        Map<Criterion, Scored> scored = new EnumMap<>(Criterion.class);
        for (Criterion k : settings.criteria()) {
            scored.put(
                    k,
                    switch (k) {
                        case MAGNITUDE ->
                            new Scored(layers, ImportanceAccumulator.magnitude(net, layers), null, null, 0, 0);
                        case TAYLOR, FISHER ->
                            new Scored(
                                    layers,
                                    acc.scores(k, -1),
                                    acc.scores(k, 0),
                                    acc.scores(k, 1),
                                    acc.batches(),
                                    acc.examples());
                        case ENTROPY ->
                            new Scored(
                                    entropy.layers(),
                                    entropy.scores(-1),
                                    entropy.scores(0),
                                    entropy.scores(1),
                                    entropy.batches(),
                                    entropy.examples());
                    });
        }
        double s = settings.stabilitySparsity();
        Map<Criterion, Double> global = new EnumMap<>(Criterion.class);
        scored.forEach((k, v) -> {
            if (v.even() != null) {
                global.put(k, overlap(PruneSelection.masks(v.even(), s), PruneSelection.masks(v.odd(), s)));
            }
        });
        write(model, scored, global, s);
        global.forEach((k, v) -> Console.out(
                "  %-9s pruned sets at sparsity %.2f from the two halves of the data" + " overlap %.1f %%",
                k.id(), s, 100 * v));
        Map<Criterion, float[][]> scores = new EnumMap<>(Criterion.class);
        Map<Criterion, int[]> scoredLayers = new EnumMap<>(Criterion.class);
        scored.forEach((k, v) -> {
            scores.put(k, v.all());
            scoredLayers.put(k, v.layers());
        });
        Scored pass = scored.values().stream()
                .filter(v -> v.examples() > 0)
                .findFirst()
                .orElse(null);
        return new Result(
                model.sha256(),
                layers,
                scores,
                scoredLayers,
                pass == null ? 0 : pass.batches(),
                pass == null ? 0 : pass.examples(),
                global);
    }

    private ImportanceAccumulator gradients(LoadedModel model, ImportanceSettings settings) {
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "train");
        if (!spec.labeled()) {
            throw Errors.unlabeled(
                    spec,
                    "importance.criteria "
                            + settings.criteria().stream().map(Criterion::id).toList() + " needs gradients");
        }
        MultiLayerNetwork net = model.net();
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, net, settings.batchSize());
        JavaRDD<Tuple2<Long, DataSet>> batches = SparkData.numberedMinibatches(
                data, inputs, ModelShapes.outputs(net), ModelShapes.task(net), settings.batchSize());
        return pass("importance", spec, model, batches, ImportanceJob::accumulate);
    }

    private ChannelEntropy entropy(LoadedModel model, ImportanceSettings settings) {
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "train");
        int inputs = ModelShapes.inputs(model.net());
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, model.net(), settings.batchSize());
        JavaRDD<Tuple2<Long, DataSet>> batches = SparkData.numberedFeatureBatches(data, inputs, settings.batchSize());
        ChannelEntropy entropy = pass("entropy", spec, model, batches, ImportanceJob::entropy);
        if (entropy.nonFinite() > 0) {
            Console.out(
                    "warning: %,d NaN or infinite activations of the hidden layers were not binned; the entropy"
                            + " scores count only the finite ones",
                    entropy.nonFinite());
        }
        return entropy;
    }

    /** A distributed pass over numbered minibatches: its statistics (of a network's weights or channels). */
    private interface Statistics<A> {
        A over(JavaRDD<Tuple2<Long, DataSet>> batches, Broadcast<byte[]> model, String uri);
    }

    /** Broadcasts the model, runs {@code statistics} over {@code batches}, and reports the examples and the time. */
    private <A extends MinibatchStatistics<A>> A pass(
            String name,
            DatasetSpec spec,
            LoadedModel model,
            JavaRDD<Tuple2<Long, DataSet>> batches,
            Statistics<A> statistics) {
        long t0 = System.nanoTime();
        Broadcast<byte[]> zip = ctx.jsc().broadcast(model.zip());
        try {
            A acc = statistics.over(batches, zip, model.uri());
            if (acc.batches() == 0) {
                throw Errors.emptyDataset(spec);
            }
            Console.out(
                    "%s pass: %,d examples in %,d minibatches, %.2f s",
                    name, acc.examples(), acc.batches(), (System.nanoTime() - t0) / 1e9);
            return acc;
        } finally {
            zip.destroy();
        }
    }

    /**
     * The importance pass: per partition one network and one accumulator, every numbered minibatch's forward
     * and backward pass added to it; the partial sums tree-reduced.
     */
    public static ImportanceAccumulator accumulate(
            JavaRDD<Tuple2<Long, DataSet>> batches, Broadcast<byte[]> model, String uri) {
        return reduce(batches, model, uri, ImportanceAccumulator::new);
    }

    /**
     * The entropy pass: per partition one network and one set of per-channel histograms, every numbered
     * minibatch's forward pass added to them; the histograms tree-reduced (exactly: the result is the same in
     * any partitioning).
     */
    public static ChannelEntropy entropy(JavaRDD<Tuple2<Long, DataSet>> batches, Broadcast<byte[]> model, String uri) {
        return reduce(batches, model, uri, ChannelEntropy::new);
    }

    /** Per partition one network and one {@code create}d statistics of it, every minibatch added; tree-reduced. */
    private static <S extends MinibatchStatistics<S>> S reduce(
            JavaRDD<Tuple2<Long, DataSet>> batches,
            Broadcast<byte[]> model,
            String uri,
            Function<MultiLayerNetwork, S> create) {
        return batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
                    MultiLayerNetwork net = ModelIO.fromBytes(model.value(), uri);
                    S acc = create.call(net);
                    while (it.hasNext()) {
                        Tuple2<Long, DataSet> b = it.next();
                        acc.add(net, b._2(), b._1());
                    }
                    return Collections.singletonList(acc).iterator();
                })
                .treeReduce(S::merge);
    }

    /** |pruned in both| / |pruned in a|: how much of one pruned set the other chose too (1 when none is pruned). */
    static double overlap(boolean[][] a, boolean[][] b) {
        long prunedA = 0;
        long both = 0;
        for (int t = 0; t < a.length; t++) {
            for (int k = 0; k < a[t].length; k++) {
                if (!a[t][k]) {
                    prunedA++;
                    if (!b[t][k]) {
                        both++;
                    }
                }
            }
        }
        return prunedA == 0 ? 1.0 : both / (double) prunedA;
    }

    private void write(
            LoadedModel model, Map<Criterion, Scored> scored, Map<Criterion, Double> global, double sparsity) {
        Timestamp now = Timestamp.from(Instant.now());
        MultiLayerNetwork net = model.net();
        List<ParamImportanceRow> rows = new ArrayList<>();
        scored.forEach((k, v) -> {
            for (int t = 0; t < v.layers().length; t++) {
                int layer = v.layers()[t];
                float[] scores = v.all()[t];
                Double stability = v.even() == null
                        ? null
                        : overlap(
                                new boolean[][] {PruneSelection.mask(v.even()[t], sparsity)},
                                new boolean[][] {PruneSelection.mask(v.odd()[t], sparsity)});
                Summary sum = Summary.of(scores);
                // per weight: the shape of W; per channel: [channels]
                int[] shape = k.scoresChannels()
                        ? new int[] {scores.length}
                        : Arrays.stream(net.getLayer(layer).getParam("W").shape())
                                .mapToInt(d -> (int) d)
                                .toArray();
                rows.add(new ParamImportanceRow(
                        ctx.runId(),
                        model.sha256(),
                        k.id(),
                        layer,
                        Pruning.layerName(net, layer),
                        net.getLayer(layer).conf().getLayer().getClass().getSimpleName(),
                        k.scoresChannels() ? ParamImportanceRow.CHANNELS : "W",
                        shape,
                        (long) scores.length,
                        v.batches(),
                        v.examples(),
                        sum.mean(),
                        sum.std(),
                        sum.min(),
                        sum.p50(),
                        sum.p90(),
                        sum.p99(),
                        sum.max(),
                        v.even() == null ? null : sparsity,
                        stability,
                        global.get(k),
                        scores,
                        now));
            }
        });
        ctx.tables()
                .replace(Table.PARAM_IMPORTANCE, rows, Scope.run(ctx.runId()).and("model_sha256", model.sha256()));
    }

    /** Summary statistics of one tensor's scores; quantiles at positions floor(q n) of the sorted scores. */
    private record Summary(double mean, double std, float min, float p50, float p90, float p99, float max) {
        static Summary of(float[] v) {
            float[] sorted = v.clone();
            Arrays.sort(sorted);
            double sum = 0;
            double sq = 0;
            for (float x : v) {
                sum += x;
                sq += (double) x * x;
            }
            double mean = sum / v.length;
            return new Summary(
                    mean,
                    Math.sqrt(Math.max(0, sq / v.length - mean * mean)),
                    sorted[0],
                    quantile(sorted, 0.5),
                    quantile(sorted, 0.9),
                    quantile(sorted, 0.99),
                    sorted[sorted.length - 1]);
        }

        private static float quantile(float[] sorted, double q) {
            return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
        }
    }
}
