package io.compactml.jobs.prune;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.model.TrainBudget;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.ImportanceAccumulator;
import io.compactml.common.prune.PruneScope;
import io.compactml.common.prune.PruneSelection;
import io.compactml.common.prune.PruneSettings;
import io.compactml.common.prune.Pruning;
import io.compactml.common.prune.SparseModel;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.tables.ParamImportanceRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.SparsityRow;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
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
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code prune}: makes a pruned model from a model and its importance scores, fine-tunes it on Spark and stores
 * it sparse.
 *
 * <ul>
 *   <li>Unstructured ({@code prune.structure = unstructured}): exactly {@code round(s * n)} weights are set to
 *   zero, ranked over all weight tensors ({@code prune.scope = global}) or within each ({@code layer}), along the
 *   schedule of {@link ScheduledMasks}; magnitude ranks the current weights at each step, taylor and fisher the
 *   stored scores. During fine-tuning every worker applies the masks after each minibatch ({@link MaskHook}), so
 *   pruned weights are zero in every averaged model.</li>
 *   <li>Structured ({@code channels}): in every weight layer but the output, the fraction
 *   {@code prune.target-sparsity} of channels (neurons, filters) with the lowest importance is removed (the summed
 *   scores of their weights, or the entropy of their activation) and the network rebuilt smaller, then
 *   fine-tuned.</li>
 * </ul>
 * Biases are never pruned; {@code prune.exclude-layers} keeps whole layers. Writes
 * {@code models.root/<model>-pruned/<run-id>/model.sparse} ({@link SparseModel}), evaluation rows for
 * {@code <model>-pruned} (technique pruned, the size being the sparse file's, plus {@code accuracy_one_shot} (or {@code mse_one_shot}):
 * the target pruning before any fine-tuning), {@code training_history} rows of the fine-tuning, and one
 * {@code sparsity} row per weight layer plus a total (layer -1).
 */
public final class PruneJob {
    private final JobContext ctx;

    public PruneJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The pruned model as stored, the network it restores to, and what was measured. */
    public record Result(
            String name,
            String uri,
            byte[] sparse,
            String sourceSha256,
            PruneSettings settings,
            String importanceRun,
            MultiLayerNetwork net,
            Map<String, Double> metrics,
            List<SparsityRow> sparsity,
            long denseSize) {}

    /** The weight layers of the source, those excluded, and those that lose weights or channels. */
    private record Layers(int[] all, Set<Integer> excluded, int[] prunable) {}

    /** A pruned network (fine-tuned if asked) and the accuracy of the target pruning before any fine-tuning. */
    private record Pruned(MultiLayerNetwork net, double oneShotAccuracy) {}

    public Result run() {
        return prune(LoadedModel.read(ctx), PruneSettings.from(ctx.config()));
    }

    public Result prune(LoadedModel model, PruneSettings settings) {
        Layers layers = layers(model.net(), settings);
        String importanceRun = ctx.runIdOr(settings.importanceRun());
        Map<Integer, float[]> stored = settings.criterion().needsData()
                ? storedScores(model.sha256(), settings.criterion(), importanceRun, layers.prunable())
                : null;
        String name = ModelKind.PRUNED.nameFor(model.name());
        Pruned pruned = settings.channels()
                ? pruneChannels(model.net(), settings, layers, stored, name)
                : pruneUnstructured(model.net(), settings, layers, stored, name);
        return store(model, settings, importanceRun, layers, pruned);
    }

    private Layers layers(MultiLayerNetwork source, PruneSettings settings) {
        Set<Integer> excluded = Pruning.resolveLayers(source, settings.excludeLayers(), "prune.exclude-layers");
        int[] all = Pruning.weightLayers(source);
        int[] prunable = Arrays.stream(all)
                .filter(l -> !excluded.contains(l) && !(settings.channels() && l == source.getnLayers() - 1))
                .toArray();
        if (prunable.length == 0) {
            throw Errors.badConfigValue(
                    "prune.exclude-layers",
                    settings.excludeLayers(),
                    "a list that leaves at least one prunable weight layer");
        }
        return new Layers(all, excluded, prunable);
    }

    /**
     * Whole channels removed by score (a channel criterion's own, or the summed scores of the channel's weights),
     * the network rebuilt smaller, then fine-tuned.
     */
    private Pruned pruneChannels(
            MultiLayerNetwork source,
            PruneSettings settings,
            Layers layers,
            Map<Integer, float[]> stored,
            String name) {
        Map<Integer, boolean[]> kept = new LinkedHashMap<>();
        float[][] scores = scores(stored, source, layers.prunable());
        for (int t = 0; t < layers.prunable().length; t++) {
            long[] shape = source.getLayer(layers.prunable()[t]).getParam("W").shape();
            float[] units = settings.criterion().scoresChannels() ? scores[t] : Pruning.unitScores(scores[t], shape);
            kept.put(layers.prunable()[t], Pruning.keptUnits(units, settings.targetSparsity()));
        }
        MultiLayerNetwork work = Pruning.removeUnits(source, kept);
        double oneShot = accuracy(work);
        return new Pruned(budget(settings).trains() ? fineTune(work, settings, null, name) : work, oneShot);
    }

    /** Single weights masked to zero along the schedule, fine-tuned under the masks; the masks checked after. */
    private Pruned pruneUnstructured(
            MultiLayerNetwork source,
            PruneSettings settings,
            Layers layers,
            Map<Integer, float[]> stored,
            String name) {
        boolean global = settings.scope() == PruneScope.GLOBAL;
        ScheduledMasks.MaskChoice choice = (net, s) -> masks(stored, net, layers, s, global);
        MultiLayerNetwork oneShot = source.clone();
        boolean[][] targetMasks = choice.at(oneShot, settings.targetSparsity());
        Pruning.applyMasks(oneShot, layers.all(), targetMasks);
        double oneShotAccuracy = accuracy(oneShot);
        if (!budget(settings).trains()) {
            return new Pruned(oneShot, oneShotAccuracy);
        }
        ScheduledMasks schedule = new ScheduledMasks(settings.schedule(), layers.all(), choice);
        MultiLayerNetwork tuned = fineTune(source.clone(), settings, schedule, name);
        long violations = Pruning.maskViolations(tuned, layers.all(), schedule.masks());
        if (violations > 0) {
            throw Errors.masksNotHeld(violations);
        }
        return new Pruned(tuned, oneShotAccuracy);
    }

    /** Writes the sparse model and evaluates what it restores to (what ships), with its sparsity rows. */
    private Result store(
            LoadedModel model, PruneSettings settings, String importanceRun, Layers layers, Pruned pruned) {
        byte[] sparse = SparseModel.of(pruned.net(), settings.int8()).toBytes();
        String name = ModelKind.PRUNED.nameFor(model.name());
        String uri = ctx.modelUri(ModelKind.PRUNED, model.name());
        ModelFiles.write(uri, ModelFormat.SPARSE, sparse, ctx.hadoop());
        MultiLayerNetwork restored = SparseModel.fromBytes(sparse, uri).toNetwork();
        Map<String, Double> extra = new LinkedHashMap<>();
        extra.put(ModelShapes.task(pruned.net()).metric() + "_one_shot", pruned.oneShotAccuracy());
        extra.put("dense_size_bytes", (double) model.zip().length);
        extra.put(
                "weight_sparsity",
                Pruning.zeroCount(restored, layers.all()) / (double) weightCount(restored, layers.all()));
        EvaluateJob.Result eval = new EvaluateJob(ctx)
                .evaluate(
                        uri,
                        ModelFormat.SPARSE,
                        sparse,
                        new EvaluateJob.Subject(
                                name,
                                ModelIO.sha256(sparse),
                                sparse.length,
                                settings.int8() ? "pruned-int8" : "pruned"),
                        extra);
        List<SparsityRow> rows = sparsityRows(name, model, restored, layers, settings);
        ctx.tables().replace(Table.SPARSITY, rows, Scope.run(ctx.runId()).and("model_name", name));
        return new Result(
                name,
                uri,
                sparse,
                model.sha256(),
                settings,
                importanceRun,
                restored,
                eval.metrics(),
                rows,
                model.zip().length);
    }

    private MultiLayerNetwork fineTune(
            MultiLayerNetwork net, PruneSettings settings, TrainJob.EpochStart start, String name) {
        net.setLearningRate(settings.learningRate());
        SparkData.Loaded train =
                SparkData.load(ctx.spark(), SparkData.forModel(DatasetSpec.from(ctx.config(), "train"), net));
        TrainJob trainer = new TrainJob(ctx);
        TrainBudget budget = budget(settings);
        JavaRDD<DataSet> holdout = null;
        if (budget.earlyStopping()) {
            SparkData.Loaded[] parts = trainer.holdOut(train, budget);
            train = parts[0];
            holdout = trainer.labeledBatches(net, parts[1]);
        }
        return trainer.fit(
                        net, trainer.labeledBatches(net, train), holdout, name, budget, settings.scheduleSteps(), start)
                .net();
    }

    /** The fine-tuning budget: {@code settings}' epochs, or {@code prune.fine-tune-steps}, and early stopping. */
    private TrainBudget budget(PruneSettings settings) {
        TrainBudget c = TrainBudget.from(ctx.config(), "prune", "fine-tune-epochs", "fine-tune-steps");
        return new TrainBudget(settings.fineTuneEpochs(), c.steps(), c.patience(), c.validationFraction());
    }

    /** The one-shot quality: accuracy, or MSE for a regression model. */
    private double accuracy(MultiLayerNetwork net) {
        Map<String, Double> m = new EvaluateJob(ctx).quality(net, "pruned (before fine-tuning)");
        Console.out("pruned, before fine-tuning: %s", Task.describe(m));
        return m.getOrDefault(ModelShapes.task(net).metric(), Double.NaN);
    }

    /** Masks (true = kept) for every weight layer; only the prunable layers lose weights. */
    private static boolean[][] masks(
            Map<Integer, float[]> stored, MultiLayerNetwork net, Layers layers, double sparsity, boolean global) {
        int[] prunable = layers.prunable();
        float[][] scores = scores(stored, net, prunable);
        boolean[][] chosen;
        if (global) {
            chosen = PruneSelection.masks(scores, sparsity);
        } else {
            chosen = new boolean[prunable.length][];
            for (int t = 0; t < prunable.length; t++) {
                chosen[t] = PruneSelection.mask(scores[t], sparsity);
            }
        }
        int[] all = layers.all();
        boolean[][] out = new boolean[all.length][];
        for (int t = 0, j = 0; t < all.length; t++) {
            if (j < prunable.length && prunable[j] == all[t]) {
                out[t] = chosen[j++];
            } else {
                out[t] = new boolean[(int) net.getLayer(all[t]).getParam("W").length()];
                Arrays.fill(out[t], true);
            }
        }
        return out;
    }

    /** Scores of the prunable layers: the stored ones, or |w| of {@code net} as it is now. */
    private static float[][] scores(Map<Integer, float[]> stored, MultiLayerNetwork net, int[] prunable) {
        if (stored == null) {
            return ImportanceAccumulator.magnitude(net, prunable);
        }
        float[][] out = new float[prunable.length][];
        for (int t = 0; t < prunable.length; t++) {
            out[t] = stored.get(prunable[t]);
        }
        return out;
    }

    private Map<Integer, float[]> storedScores(String sha, Criterion criterion, String run, int[] layers) {
        Map<Integer, float[]> out = new HashMap<>();
        for (ParamImportanceRow r : ctx.tables()
                .rows(
                        Table.PARAM_IMPORTANCE,
                        Scope.run(run).and("model_sha256", sha).and("criterion", criterion.id()),
                        ParamImportanceRow.class)) {
            out.put(r.layer(), r.scores());
        }
        for (int layer : layers) {
            if (!out.containsKey(layer)) {
                throw Errors.missingUpstream(
                        "'" + criterion.id() + "' importance of model " + sha.substring(0, 12),
                        run,
                        "param_importance (layer " + layer + " missing)",
                        "importance --run-id " + run + "` (with importance.criteria including '" + criterion.id()
                                + "')",
                        "prune.importance-run");
            }
        }
        return out;
    }

    private static long weightCount(MultiLayerNetwork net, int[] layers) {
        long n = 0;
        for (int layer : layers) {
            n += net.getLayer(layer).getParam("W").length();
        }
        return n;
    }

    /** What every sparsity row of one pruned model shares. */
    private record SparsityOf(
            String runId, String name, String sha, String criterion, String structure, String scope, Timestamp now) {
        SparsityRow row(
                int layer,
                String layerName,
                long weights,
                Double target,
                double actual,
                Integer before,
                Integer after,
                boolean excluded) {
            return new SparsityRow(
                    runId, name, sha, criterion, structure, scope, layer, layerName, weights, target, actual, before,
                    after, excluded, now);
        }
    }

    private List<SparsityRow> sparsityRows(
            String name, LoadedModel model, MultiLayerNetwork pruned, Layers layers, PruneSettings settings) {
        MultiLayerNetwork source = model.net();
        boolean channels = settings.channels();
        double target = settings.targetSparsity();
        SparsityOf of = new SparsityOf(
                ctx.runId(),
                name,
                model.sha256(),
                settings.criterion().id(),
                settings.structure().id(),
                settings.effectiveScope().id(),
                Timestamp.from(Instant.now()));
        List<SparsityRow> rows = new ArrayList<>();
        long weights = 0;
        long zeros = 0;
        long sourceWeights = 0;
        for (int layer : layers.all()) {
            INDArray before = source.getLayer(layer).getParam("W");
            INDArray after = pruned.getLayer(layer).getParam("W");
            boolean kept = layers.excluded().contains(layer) || channels && layer == source.getnLayers() - 1;
            long layerZeros = Pruning.zeroCount(pruned, new int[] {layer});
            weights += after.length();
            sourceWeights += before.length();
            zeros += layerZeros;
            // unstructured global: the target holds over all prunable layers together, not per layer
            Double layerTarget = kept
                    ? Double.valueOf(0.0)
                    : channels || settings.scope() == PruneScope.LAYER ? Double.valueOf(target) : null;
            rows.add(of.row(
                    layer,
                    Pruning.layerName(source, layer),
                    after.length(),
                    layerTarget,
                    layerZeros / (double) after.length(),
                    Pruning.units(before.shape()),
                    Pruning.units(after.shape()),
                    kept));
        }
        // the total: for structured pruning, the share of the source's weights gone (removed or zero)
        double totalActual = 1.0 - (weights - zeros) / (double) sourceWeights;
        rows.add(of.row(-1, "all", weights, channels ? null : Double.valueOf(target), totalActual, null, null, false));
        return rows;
    }

    /** A one-line summary of a result, for the command line and the demo. */
    public static String summary(Result r) {
        Map<String, Double> m = r.metrics();
        String metric = m.containsKey("accuracy_one_shot") ? "accuracy" : "mse";
        return String.format(
                Locale.ROOT,
                "%s (one-shot %s %.4g), weight sparsity %.3f, %,d bytes: %.2fx smaller than the dense zip",
                Task.describe(m),
                metric,
                m.getOrDefault(metric + "_one_shot", Double.NaN),
                m.get("weight_sparsity"),
                r.sparse().length,
                r.denseSize() / (double) r.sparse().length);
    }
}
