package io.compactml.jobs.prune;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.prune.ImportanceAccumulator.Criterion;
import io.compactml.common.prune.PruneSelection;
import io.compactml.common.prune.Pruning;
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
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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
    public record Result(String modelSha256, int[] layers, Map<Criterion, float[][]> scores, long batches,
                         long examples, Map<Criterion, Double> globalOverlap) {
    }

    public Result run() {
        return compute(LoadedModel.read(ctx));
    }

    public Result compute(LoadedModel model) {
        CompactConfig c = ctx.config();
        List<Criterion> criteria = c.getStringList("importance.criteria").stream()
                .map(s -> Criterion.valueOf(s.toUpperCase(java.util.Locale.ROOT))).toList();
        MultiLayerNetwork net = model.net();
        int[] layers = Pruning.weightLayers(net);
        Map<Criterion, float[][]> scores = new EnumMap<>(Criterion.class);
        Map<Criterion, float[][][]> halves = new EnumMap<>(Criterion.class);
        ImportanceAccumulator acc = null;
        if (criteria.contains(Criterion.TAYLOR) || criteria.contains(Criterion.FISHER)) {
            long t0 = System.nanoTime();
            acc = accumulate(model);
            Console.out("importance pass: %,d examples in %,d minibatches, %.2f s", acc.examples(), acc.batches(),
                    (System.nanoTime() - t0) / 1e9);
        }
        for (Criterion k : criteria) {
            if (k == Criterion.MAGNITUDE) {
                scores.put(k, ImportanceAccumulator.magnitude(net, layers));
            } else {
                scores.put(k, acc.scores(k, -1));
                halves.put(k, new float[][][] {acc.scores(k, 0), acc.scores(k, 1)});
            }
        }
        double s = c.getDouble("importance.stability-sparsity");
        Map<Criterion, Double> global = new EnumMap<>(Criterion.class);
        halves.forEach((k, h) -> global.put(k, overlap(PruneSelection.masks(h[0], s), PruneSelection.masks(h[1], s))));
        long batches = acc == null ? 0 : acc.batches();
        long examples = acc == null ? 0 : acc.examples();
        write(model.sha256(), net, layers, scores, halves, global, s, batches, examples);
        global.forEach((k, v) -> Console.out("  %-9s pruned sets at sparsity %.2f from the two halves of the data"
                + " overlap %.1f %%", k.id(), s, 100 * v));
        return new Result(model.sha256(), layers, scores, batches, examples, global);
    }

    private ImportanceAccumulator accumulate(LoadedModel model) {
        CompactConfig c = ctx.config();
        DatasetSpec spec = DatasetSpec.from(c, "train");
        boolean labeled = spec.format().equals("idx") ? !spec.labelsUri().isBlank() : !spec.label().isBlank();
        if (!labeled) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "importance.criteria "
                    + c.getStringList("importance.criteria") + " needs gradients, and " + spec.key() + " ("
                    + spec.name() + ") has no labels. Set '" + spec.key() + (spec.format().equals("idx")
                    ? ".labels-uri'" : ".label'") + ", or use importance.criteria = [magnitude].");
        }
        MultiLayerNetwork net = model.net();
        int inputs = ModelShapes.inputs(net);
        int batch = c.getInt("importance.batch-size");
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, batch);
        JavaRDD<Tuple2<Long, DataSet>> batches = SparkData.numberedMinibatches(data, inputs,
                ModelShapes.outputs(net), ModelShapes.task(net), batch);
        Broadcast<byte[]> zip = ctx.jsc().broadcast(model.zip());
        try {
            ImportanceAccumulator acc = accumulate(batches, zip, model.uri());
            if (acc.batches() == 0) {
                throw new CompactMLException(CompactMLException.Kind.USAGE, "Data set " + spec.name() + " ("
                        + spec.uri() + ") is empty. Point '" + spec.key() + "' at data with examples.");
            }
            return acc;
        } finally {
            zip.destroy();
        }
    }

    /**
     * The importance pass: per partition one network and one accumulator, every numbered minibatch's forward
     * and backward pass added to it; the partial sums tree-reduced.
     */
    public static ImportanceAccumulator accumulate(JavaRDD<Tuple2<Long, DataSet>> batches, Broadcast<byte[]> model,
                                            String uri) {
        return batches.mapPartitions((Iterator<Tuple2<Long, DataSet>> it) -> {
            MultiLayerNetwork net = io.compactml.common.model.ModelIO.fromBytes(model.value(), uri);
            ImportanceAccumulator acc = new ImportanceAccumulator(net);
            while (it.hasNext()) {
                Tuple2<Long, DataSet> b = it.next();
                acc.add(net, b._2(), b._1());
            }
            return Collections.singletonList(acc).iterator();
        }).treeReduce(ImportanceAccumulator::merge);
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

    private void write(String sha, MultiLayerNetwork net, int[] layers, Map<Criterion, float[][]> scores,
                       Map<Criterion, float[][][]> halves, Map<Criterion, Double> global, double sparsity,
                       long batches, long examples) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<Criterion, float[][]> e : scores.entrySet()) {
            float[][][] h = halves.get(e.getKey());
            for (int t = 0; t < layers.length; t++) {
                float[] v = e.getValue()[t];
                long[] shape = net.getLayer(layers[t]).getParam("W").shape();
                Double stability = h == null ? null
                        : overlap(new boolean[][] {PruneSelection.mask(h[0][t], sparsity)},
                                new boolean[][] {PruneSelection.mask(h[1][t], sparsity)});
                float[] sorted = v.clone();
                Arrays.sort(sorted);
                double sum = 0;
                double sq = 0;
                for (float x : v) {
                    sum += x;
                    sq += (double) x * x;
                }
                double mean = sum / v.length;
                List<Integer> dims = new ArrayList<>();
                for (long d : shape) {
                    dims.add((int) d);
                }
                List<Float> values = new ArrayList<>(v.length);
                for (float x : v) {
                    values.add(x);
                }
                rows.add(RowFactory.create(ctx.runId(), sha, e.getKey().id(), layers[t],
                        Pruning.layerName(net, layers[t]), net.getLayer(layers[t]).conf().getLayer().getClass()
                                .getSimpleName(), "W", dims, (long) v.length,
                        e.getKey() == Criterion.MAGNITUDE ? 0L : batches, e.getKey() == Criterion.MAGNITUDE ? 0L : examples,
                        mean, Math.sqrt(Math.max(0, sq / v.length - mean * mean)), sorted[0],
                        quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99), sorted[sorted.length - 1],
                        h == null ? null : sparsity, stability, global.get(e.getKey()), values, now));
            }
        }
        ctx.tables().replace(Tables.Table.PARAM_IMPORTANCE, rows,
                "run_id = " + Tables.literal(ctx.runId()) + " AND model_sha256 = " + Tables.literal(sha));
    }

    private static float quantile(float[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }
}
