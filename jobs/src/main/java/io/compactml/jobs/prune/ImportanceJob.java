package io.compactml.jobs.prune;

import io.compactml.common.Errors;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.prune.ImportanceSettings;
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
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import scala.Tuple2;

/**
 * {@code importance}: per-weight importance scores of every weight tensor. {@code magnitude} is |w| and needs
 * no data; {@code taylor} and {@code fisher} come from one distributed forward and backward pass over
 * {@code data.train}: every partition deserializes the model once and adds each minibatch's gradient
 * statistics to an {@link ImportanceAccumulator} (4 doubles a weight: executor memory is O(parameters),
 * whatever the data size), and the partial sums are tree-reduced.
 *
 * <p>Writes {@code param_importance}, one row per criterion and weight tensor: the scores as an array (c-order
 * over the tensor's shape) and summary statistics, plus the stability of the ranking: the overlap of the
 * pruned sets chosen at {@code importance.stability-sparsity} from the even and from the odd minibatches.
 */
public final class ImportanceJob {
    private final JobContext ctx;

    public ImportanceJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** Scores per criterion (one array per weight tensor, in the order of {@code layers}) and their stability. */
    public record Result(
            String modelSha256,
            int[] layers,
            Map<Criterion, float[][]> scores,
            long batches,
            long examples,
            Map<Criterion, Double> globalOverlap) {}

    /** The scores of one criterion: all the data's, and the even and odd halves' (null for magnitude). */
    private record Scored(float[][] all, float[][] even, float[][] odd) {}

    public Result run() {
        return compute(LoadedModel.read(ctx), ImportanceSettings.from(ctx.config()));
    }

    public Result compute(LoadedModel model, ImportanceSettings settings) {
        MultiLayerNetwork net = model.net();
        int[] layers = Pruning.weightLayers(net);
        ImportanceAccumulator acc = settings.needsData() ? accumulate(model, settings) : null;
        Map<Criterion, Scored> scored = new EnumMap<>(Criterion.class);
        for (Criterion k : settings.criteria()) {
            scored.put(
                    k,
                    k.needsData()
                            ? new Scored(acc.scores(k, -1), acc.scores(k, 0), acc.scores(k, 1))
                            : new Scored(ImportanceAccumulator.magnitude(net, layers), null, null));
        }
        double s = settings.stabilitySparsity();
        Map<Criterion, Double> global = new EnumMap<>(Criterion.class);
        scored.forEach((k, v) -> {
            if (v.even() != null) {
                global.put(k, overlap(PruneSelection.masks(v.even(), s), PruneSelection.masks(v.odd(), s)));
            }
        });
        long batches = acc == null ? 0 : acc.batches();
        long examples = acc == null ? 0 : acc.examples();
        write(model, layers, scored, global, s, batches, examples);
        global.forEach((k, v) -> Console.out(
                "  %-9s pruned sets at sparsity %.2f from the two halves of the data" + " overlap %.1f %%",
                k.id(), s, 100 * v));
        Map<Criterion, float[][]> scores = new EnumMap<>(Criterion.class);
        scored.forEach((k, v) -> scores.put(k, v.all()));
        return new Result(model.sha256(), layers, scores, batches, examples, global);
    }

    private ImportanceAccumulator accumulate(LoadedModel model, ImportanceSettings settings) {
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "train");
        if (!spec.labeled()) {
            throw Errors.unlabeled(
                    spec,
                    "importance.criteria "
                            + settings.criteria().stream().map(Criterion::id).toList() + " needs gradients");
        }
        long t0 = System.nanoTime();
        MultiLayerNetwork net = model.net();
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, settings.batchSize());
        JavaRDD<Tuple2<Long, DataSet>> batches = SparkData.numberedMinibatches(
                data, inputs, ModelShapes.outputs(net), ModelShapes.task(net), settings.batchSize());
        Broadcast<byte[]> zip = ctx.jsc().broadcast(model.zip());
        try {
            ImportanceAccumulator acc = accumulate(batches, zip, model.uri());
            if (acc.batches() == 0) {
                throw Errors.emptyDataset(spec);
            }
            Console.out(
                    "importance pass: %,d examples in %,d minibatches, %.2f s",
                    acc.examples(), acc.batches(), (System.nanoTime() - t0) / 1e9);
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
        return batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
                    MultiLayerNetwork net = ModelIO.fromBytes(model.value(), uri);
                    ImportanceAccumulator acc = new ImportanceAccumulator(net);
                    while (it.hasNext()) {
                        Tuple2<Long, DataSet> b = it.next();
                        acc.add(net, b._2(), b._1());
                    }
                    return Collections.singletonList(acc).iterator();
                })
                .treeReduce(ImportanceAccumulator::merge);
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
            LoadedModel model,
            int[] layers,
            Map<Criterion, Scored> scored,
            Map<Criterion, Double> global,
            double sparsity,
            long batches,
            long examples) {
        Timestamp now = Timestamp.from(Instant.now());
        MultiLayerNetwork net = model.net();
        List<ParamImportanceRow> rows = new ArrayList<>();
        scored.forEach((k, v) -> {
            for (int t = 0; t < layers.length; t++) {
                float[] scores = v.all()[t];
                Double stability = v.even() == null
                        ? null
                        : overlap(
                                new boolean[][] {PruneSelection.mask(v.even()[t], sparsity)},
                                new boolean[][] {PruneSelection.mask(v.odd()[t], sparsity)});
                Summary sum = Summary.of(scores);
                int[] shape = Arrays.stream(
                                net.getLayer(layers[t]).getParam("W").shape())
                        .mapToInt(d -> (int) d)
                        .toArray();
                rows.add(new ParamImportanceRow(
                        ctx.runId(),
                        model.sha256(),
                        k.id(),
                        layers[t],
                        Pruning.layerName(net, layers[t]),
                        net.getLayer(layers[t]).conf().getLayer().getClass().getSimpleName(),
                        "W",
                        shape,
                        (long) scores.length,
                        k.needsData() ? batches : 0L,
                        k.needsData() ? examples : 0L,
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
