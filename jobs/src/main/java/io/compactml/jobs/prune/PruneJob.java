package io.compactml.jobs.prune;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.jobs.train.TrainJob;
import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.prune.ImportanceAccumulator.Criterion;
import io.compactml.common.prune.PruneSelection;
import io.compactml.common.prune.Pruning;
import io.compactml.common.prune.SparseModel;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code prune}: makes a pruned model from a model and its importance scores, fine-tunes it on Spark and stores
 * it sparse.
 *
 * <ul>
 *   <li>Unstructured ({@code prune.structure = unstructured}): exactly {@code round(s * n)} weights are set to
 *   zero, ranked over all weight tensors ({@code prune.scope = global}) or within each ({@code layer}). With
 *   {@code prune.schedule-steps} > 1 the sparsity rises from {@code prune.initial-sparsity} to
 *   {@code prune.sparsity} along a polynomial decay (power 3), one step at the start of each fine-tuning epoch;
 *   magnitude ranks the current weights at each step, taylor and fisher the stored scores. During fine-tuning
 *   every worker applies the masks after each minibatch ({@link MaskHook}), so pruned weights are zero in
 *   every averaged model.</li>
 *   <li>Structured ({@code units}): in every weight layer but the output, the fraction {@code prune.sparsity}
 *   of units (neurons, filters) with the lowest summed importance is removed and the network rebuilt smaller,
 *   then fine-tuned.</li>
 * </ul>
 * Biases are never pruned; {@code prune.exclude-layers} keeps whole layers. Writes
 * {@code models.root/<model>-pruned/<run-id>/model.sparse} ({@link SparseModel}), evaluation rows for
 * {@code <model>-pruned} (technique pruned, the size being the sparse file's, plus {@code accuracy_one_shot}:
 * the target pruning before any fine-tuning), {@code training_history} rows of the fine-tuning, and one
 * {@code sparsity} row per weight layer plus a total (layer -1).
 */
public final class PruneJob {
    public static final String FILE = "model.sparse";

    private final JobContext ctx;

    public PruneJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The pruned model as stored, the network it restores to, and what was measured. */
    public record Result(String uri, byte[] sparse, String sourceSha256, MultiLayerNetwork net,
                         Map<String, Double> metrics, List<Row> sparsity, long denseSize) {
    }

    /** The name pruned models are recorded and published under. */
    public static String prunedName(JobContext ctx) {
        return ctx.config().getString("model.name") + "-pruned";
    }

    /** Where {@code prune} writes the sparse model of this run. */
    public static String prunedUri(JobContext ctx) {
        return ctx.modelFileUri(prunedName(ctx), ctx.runId(), FILE);
    }

    /** The run id whose importance scores {@code prune} uses. */
    public static String importanceRun(JobContext ctx) {
        String run = ctx.config().getString("prune.importance-run");
        return run.isEmpty() ? ctx.runId() : run;
    }

    public Result run() {
        return prune(LoadedModel.read(ctx));
    }

    public Result prune(LoadedModel model) {
        CompactConfig c = ctx.config();
        MultiLayerNetwork source = model.net();
        Criterion criterion = Criterion.valueOf(c.getString("prune.criterion").toUpperCase(Locale.ROOT));
        boolean units = c.getString("prune.structure").equals("units");
        double target = c.getDouble("prune.sparsity");
        int steps = c.getInt("prune.schedule-steps");
        int epochs = c.getInt("prune.fine-tune-epochs");
        if (steps > 1 && (units || epochs < steps)) {
            throw Errors.badConfigValue("prune.schedule-steps", steps, units
                    ? "1 with prune.structure = units (structured pruning is one-shot)"
                    : "at most prune.fine-tune-epochs = " + epochs + " (one step at the start of each epoch)");
        }
        Set<Integer> excluded = Pruning.resolveLayers(source, c.getStringList("prune.exclude-layers"),
                "prune.exclude-layers");
        int[] all = Pruning.weightLayers(source);
        int[] candidates = Arrays.stream(all)
                .filter(l -> !excluded.contains(l) && !(units && l == source.getnLayers() - 1)).toArray();
        if (candidates.length == 0) {
            throw Errors.badConfigValue("prune.exclude-layers", c.getStringList("prune.exclude-layers"),
                    "a list that leaves at least one prunable weight layer");
        }
        Map<Integer, float[]> stored = criterion == Criterion.MAGNITUDE ? null
                : storedScores(model.sha256(), criterion, all);

        MultiLayerNetwork work;
        Map<String, Double> extra = new LinkedHashMap<>();
        boolean[][] finalMasks = null;
        if (units) {
            Map<Integer, boolean[]> kept = new LinkedHashMap<>();
            float[][] scores = scores(stored, source, candidates);
            for (int t = 0; t < candidates.length; t++) {
                long[] shape = source.getLayer(candidates[t]).getParam("W").shape();
                kept.put(candidates[t], Pruning.keptUnits(Pruning.unitScores(scores[t], shape), target));
            }
            work = Pruning.removeUnits(source, kept);
            extra.put("accuracy_one_shot", accuracy(work));
            if (epochs > 0) {
                work = fineTune(work, epochs, null);
            }
        } else {
            work = source.clone();
            boolean global = c.getString("prune.scope").equals("global");
            MultiLayerNetwork oneShot = source.clone();
            boolean[][] masks = masks(stored, oneShot, all, candidates, target, global);
            Pruning.applyMasks(oneShot, all, masks);
            extra.put("accuracy_one_shot", accuracy(oneShot));
            if (epochs == 0) {
                work = oneShot;
                finalMasks = masks;
            } else {
                double initial = c.getDouble("prune.initial-sparsity");
                boolean[][][] current = new boolean[1][][];
                MaskHook[] hook = new MaskHook[1];
                work = fineTune(work, epochs, (epoch, net, master) -> {
                    int step = epoch - 1;
                    if (step >= steps) {
                        return;
                    }
                    double s = Pruning.scheduled(initial, target, step, steps);
                    current[0] = masks(stored, net, all, candidates, s, global);
                    Pruning.applyMasks(net, all, current[0]);
                    if (hook[0] != null) {
                        master.removeHook(hook[0]);
                    }
                    hook[0] = new MaskHook(all, current[0]);
                    master.addHook(hook[0]);
                    Console.out("pruning step %d/%d: sparsity %.4f", step + 1, steps, s);
                });
                finalMasks = current[0];
            }
            long violations = Pruning.maskViolations(work, all, finalMasks);
            if (violations > 0) {
                throw new CompactMLException(CompactMLException.Kind.RUNTIME, violations + " pruned weights are"
                        + " nonzero after fine-tuning: the masks were not applied on the workers.");
            }
        }

        boolean int8 = c.getBoolean("prune.int8");
        byte[] sparse = SparseModel.of(work, int8).toBytes();
        String uri = prunedUri(ctx);
        ModelIO.writeBytes(uri, sparse, ctx.hadoop());
        // what is evaluated is what ships: the network the sparse file restores to
        MultiLayerNetwork restored = SparseModel.fromBytes(sparse, uri).toNetwork();
        extra.put("dense_size_bytes", (double) model.zip().length);
        extra.put("weight_sparsity", weightSparsity(restored, all));
        String name = prunedName(ctx);
        EvaluateJob.Result eval = new EvaluateJob(ctx).evaluate(uri, ModelIO.toBytes(restored), restored,
                new EvaluateJob.Subject(name, ModelIO.sha256(sparse), sparse.length, int8 ? "pruned-int8" : "pruned"),
                extra);
        List<Row> rows = sparsityRows(model.sha256(), source, restored, all, excluded, criterion, units, target);
        ctx.tables().replace(Tables.Table.SPARSITY, rows, "run_id = " + Tables.literal(ctx.runId())
                + " AND model_name = " + Tables.literal(name));
        return new Result(uri, sparse, model.sha256(), restored, eval.metrics(), rows, model.zip().length);
    }

    private MultiLayerNetwork fineTune(MultiLayerNetwork net, int epochs, TrainJob.EpochStart start) {
        net.setLearningRate(ctx.config().getDouble("prune.learning-rate"));
        SparkData.Loaded train = SparkData.load(ctx.spark(), DatasetSpec.from(ctx.config(), "train"));
        TrainJob trainer = new TrainJob(ctx);
        return trainer.fit(net, trainer.labeledBatches(net, train), prunedName(ctx), epochs, start).net();
    }

    private double accuracy(MultiLayerNetwork net) {
        Map<String, Double> m = new EvaluateJob(ctx).quality(net, "pruned (before fine-tuning)");
        double acc = m.getOrDefault("accuracy", Double.NaN);
        Console.out("pruned, before fine-tuning: accuracy %.4f", acc);
        return acc;
    }

    /** Masks (true = kept) for every weight layer; only {@code candidates} lose weights. */
    private static boolean[][] masks(Map<Integer, float[]> stored, MultiLayerNetwork net, int[] all,
                                     int[] candidates, double sparsity, boolean global) {
        float[][] scores = scores(stored, net, candidates);
        boolean[][] chosen;
        if (global) {
            chosen = PruneSelection.masks(scores, sparsity);
        } else {
            chosen = new boolean[candidates.length][];
            for (int t = 0; t < candidates.length; t++) {
                chosen[t] = PruneSelection.mask(scores[t], sparsity);
            }
        }
        boolean[][] out = new boolean[all.length][];
        for (int t = 0, j = 0; t < all.length; t++) {
            if (j < candidates.length && candidates[j] == all[t]) {
                out[t] = chosen[j++];
            } else {
                out[t] = new boolean[(int) net.getLayer(all[t]).getParam("W").length()];
                Arrays.fill(out[t], true);
            }
        }
        return out;
    }

    /** Scores of the candidate layers: the stored ones, or |w| of {@code net} as it is now. */
    private static float[][] scores(Map<Integer, float[]> stored, MultiLayerNetwork net, int[] candidates) {
        if (stored == null) {
            return ImportanceAccumulator.magnitude(net, candidates);
        }
        float[][] out = new float[candidates.length][];
        for (int t = 0; t < candidates.length; t++) {
            out[t] = stored.get(candidates[t]);
        }
        return out;
    }

    private Map<Integer, float[]> storedScores(String sha, Criterion criterion, int[] layers) {
        String run = importanceRun(ctx);
        Map<Integer, float[]> out = new HashMap<>();
        if (ctx.tables().exists(Tables.Table.PARAM_IMPORTANCE)) {
            for (Row r : ctx.tables().read(Tables.Table.PARAM_IMPORTANCE)
                    .filter("run_id = " + Tables.literal(run) + " AND model_sha256 = " + Tables.literal(sha)
                            + " AND criterion = " + Tables.literal(criterion.id()))
                    .select("layer", "scores").collectAsList()) {
                List<Float> v = r.getList(1);
                float[] f = new float[v.size()];
                for (int k = 0; k < f.length; k++) {
                    f[k] = v.get(k);
                }
                out.put(r.getInt(0), f);
            }
        }
        for (int layer : layers) {
            if (!out.containsKey(layer)) {
                throw new CompactMLException(CompactMLException.Kind.USAGE, "No '" + criterion.id() + "' importance"
                        + " of model " + sha.substring(0, 12) + " under run id '" + run + "' in param_importance"
                        + " (layer " + layer + " missing). Run `compactml importance --run-id " + run + "` (with"
                        + " importance.criteria including '" + criterion.id() + "') first, or set"
                        + " prune.importance-run.");
            }
        }
        return out;
    }

    private static double weightSparsity(MultiLayerNetwork net, int[] layers) {
        long zeros = 0;
        long n = 0;
        for (int layer : layers) {
            INDArray w = net.getLayer(layer).getParam("W");
            zeros += Math.round(Pruning.sparsity(w) * w.length());
            n += w.length();
        }
        return zeros / (double) n;
    }

    private List<Row> sparsityRows(String sha, MultiLayerNetwork source, MultiLayerNetwork pruned, int[] all,
                                   Set<Integer> excluded, Criterion criterion, boolean units, double target) {
        CompactConfig c = ctx.config();
        String name = prunedName(ctx);
        String structure = c.getString("prune.structure");
        String scope = units ? "layer" : c.getString("prune.scope");
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        long weights = 0;
        long zeros = 0;
        long sourceWeights = 0;
        for (int layer : all) {
            INDArray before = source.getLayer(layer).getParam("W");
            INDArray after = pruned.getLayer(layer).getParam("W");
            boolean output = layer == source.getnLayers() - 1;
            boolean kept = excluded.contains(layer) || units && output;
            double actual = Pruning.sparsity(after);
            weights += after.length();
            sourceWeights += before.length();
            zeros += Math.round(actual * after.length());
            int unitsBefore = Pruning.units(before.shape());
            int unitsAfter = Pruning.units(after.shape());
            // unstructured global: the target holds over all candidates together, not per layer
            Double layerTarget = kept ? Double.valueOf(0.0) : units || scope.equals("layer") ? Double.valueOf(target) : null;
            rows.add(RowFactory.create(ctx.runId(), name, sha, criterion.id(), structure, scope, layer,
                    Pruning.layerName(source, layer), after.length(), layerTarget, actual, unitsBefore, unitsAfter,
                    kept, now));
        }
        // the total: for structured pruning, the share of the source's weights gone (removed or zero)
        double totalActual = 1.0 - (weights - zeros) / (double) sourceWeights;
        rows.add(RowFactory.create(ctx.runId(), name, sha, criterion.id(), structure, scope, -1, "all", weights,
                units ? null : Double.valueOf(target), totalActual, null, null, false, now));
        return rows;
    }

    /** A one-line summary of a result, for the command line and the demo. */
    public static String summary(Result r) {
        Map<String, Double> m = r.metrics();
        return String.format(Locale.ROOT, "accuracy %.4f (one-shot %.4f), weight sparsity %.3f, %,d bytes: %.2fx"
                        + " smaller than the dense zip", m.getOrDefault("accuracy", Double.NaN),
                m.getOrDefault("accuracy_one_shot", Double.NaN), m.get("weight_sparsity"), r.sparse().length,
                r.denseSize() / (double) r.sparse().length);
    }
}
