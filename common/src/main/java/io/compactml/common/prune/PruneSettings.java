package io.compactml.common.prune;

import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import java.util.List;
import java.util.Locale;

/**
 * How {@code prune} makes a pruned model ({@code prune.*}), checked once when read: the terms are TFMOT's and
 * Neural Compressor's (target sparsity, pruning scope, a polynomial-decay schedule, excluded layers).
 *
 * @param criterion        what ranks the weights or channels
 * @param importanceRun    run id of the stored importance scores; empty means the job's own run id
 * @param targetSparsity   fraction of weights pruned (unstructured) or of channels removed per layer
 * @param scope            unstructured: one ranking over all tensors, or one per tensor
 * @param structure        single weights, or whole channels
 * @param excludeLayers    layers never pruned, by index or DL4J name
 * @param initialSparsity  the schedule's first sparsity
 * @param scheduleSteps    the schedule's steps (1 = one-shot)
 * @param fineTuneEpochs   epochs of fine-tuning under the masks
 * @param learningRate     Adam learning rate of the fine-tuning
 * @param int8             store the nonzero weights as int8
 */
public record PruneSettings(
        Criterion criterion,
        String importanceRun,
        double targetSparsity,
        PruneScope scope,
        PruneStructure structure,
        List<String> excludeLayers,
        double initialSparsity,
        int scheduleSteps,
        int fineTuneEpochs,
        double learningRate,
        boolean int8) {

    /**
     * Reads and checks {@code prune.*}.
     *
     * @throws io.compactml.common.CompactMLException (usage) for a schedule that structured pruning or the
     *     fine-tuning epochs cannot carry out, or a criterion that scores channels for unstructured pruning
     */
    public static PruneSettings from(CompactConfig c) {
        PruneSettings s = new PruneSettings(
                c.getEnum("prune.criterion", Criterion.class),
                c.getString("prune.importance-run"),
                c.getDouble("prune.target-sparsity"),
                c.getEnum("prune.scope", PruneScope.class),
                c.getEnum("prune.structure", PruneStructure.class),
                c.getStringList("prune.exclude-layers"),
                c.getDouble("prune.initial-sparsity"),
                c.getInt("prune.schedule-steps"),
                c.getInt("prune.fine-tune-epochs"),
                c.getDouble("prune.learning-rate"),
                c.getBoolean("prune.int8"));
        s.check();
        return s;
    }

    private void check() {
        if (criterion.scoresChannels() && !channels()) {
            throw Errors.badConfigValue(
                    "prune.criterion",
                    criterion.id(),
                    "one of " + Criterion.weightIds() + " with prune.structure = " + structure.id() + " ("
                            + criterion.id() + " scores whole channels, not single weights: use it with"
                            + " prune.structure = channels)");
        }
        if (scheduleSteps > 1 && (channels() || fineTuneEpochs < scheduleSteps)) {
            throw Errors.badConfigValue(
                    "prune.schedule-steps",
                    scheduleSteps,
                    channels()
                            ? "1 with prune.structure = channels (structured pruning is one-shot)"
                            : "at most prune.fine-tune-epochs = " + fineTuneEpochs
                                    + " (one step at the start of each epoch)");
        }
    }

    /** Whether whole channels are removed (structured pruning). */
    public boolean channels() {
        return structure == PruneStructure.CHANNELS;
    }

    /** When the sparsity rises during fine-tuning. */
    public PruneSchedule schedule() {
        return new PruneSchedule(initialSparsity, targetSparsity, scheduleSteps);
    }

    /** The scope the sparsity holds over: per layer for structured pruning, else {@link #scope}. */
    public PruneScope effectiveScope() {
        return channels() ? PruneScope.LAYER : scope;
    }

    /**
     * The settings of a plan's prune step: unstructured and global at the step's criterion and sparsity, the
     * nonzero weights stored as int8 when {@code int8}, scores of run {@code stepImportanceRun}; on a model other
     * than the plan's source no excluded layers (they name the source's layers).
     */
    public PruneSettings forStep(
            Criterion stepCriterion, double sparsity, boolean stepInt8, String stepImportanceRun, boolean onSource) {
        PruneSettings s = new PruneSettings(
                stepCriterion,
                stepImportanceRun,
                sparsity,
                PruneScope.GLOBAL,
                PruneStructure.UNSTRUCTURED,
                onSource ? excludeLayers : List.of(),
                initialSparsity,
                scheduleSteps,
                fineTuneEpochs,
                learningRate,
                stepInt8);
        s.check();
        return s;
    }

    /** How the model was pruned, for its manifest; {@code scoresRun} is the importance run the scores came from. */
    public String describe(String scoresRun) {
        return String.format(
                Locale.ROOT,
                "%s %s, criterion %s, sparsity %s, %d fine-tuning epochs, %s values," + " importance run %s",
                structure.id(),
                scope.id(),
                criterion.id(),
                targetSparsity,
                fineTuneEpochs,
                int8 ? "int8" : "float32",
                scoresRun);
    }
}
