package io.compactml.common.model;

import io.compactml.common.config.CompactConfig;

/**
 * How long a fine-tuning or a student's training runs ({@code prune.*}, {@code distill.*}): a number of epochs, or of
 * optimizer steps (minibatches per worker, rounded up to whole epochs: the same number of updates whether the table
 * has 1,400 rows or 60,000), and optionally early stopping on a held-out share of {@code data.train}: after each
 * epoch the model is evaluated on it (loss: cross-entropy, or MSE), training stops once {@code patience} epochs
 * pass without a better loss, and the best epoch's weights are kept (Keras' {@code EarlyStopping(monitor =
 * "val_loss", restore_best_weights = True)}).
 *
 * @param epochs             epochs when {@code steps} is 0
 * @param steps              optimizer steps per worker (0: use {@code epochs})
 * @param patience           epochs without improvement before stopping (0: no early stopping, no held-out share)
 * @param validationFraction share of {@code data.train} held out for early stopping, in (0, 1)
 */
public record TrainBudget(int epochs, int steps, int patience, double validationFraction) {

    /** A plain budget of {@code epochs}. */
    public static TrainBudget ofEpochs(int epochs) {
        return new TrainBudget(epochs, 0, 0, 0);
    }

    /**
     * Reads {@code <prefix>.<epochsKey>}, {@code <prefix>.<stepsKey>}, {@code <prefix>.patience} and
     * {@code <prefix>.validation-fraction}.
     */
    public static TrainBudget from(CompactConfig c, String prefix, String epochsKey, String stepsKey) {
        return new TrainBudget(
                c.getInt(prefix + "." + epochsKey),
                c.getInt(prefix + "." + stepsKey),
                c.getInt(prefix + ".patience"),
                c.getDouble(prefix + ".validation-fraction"));
    }

    /** Whether it trains at all. */
    public boolean trains() {
        return steps > 0 || epochs > 0;
    }

    public boolean earlyStopping() {
        return patience > 0;
    }

    /**
     * The epochs to run: {@code epochs}, or the whole epochs that hold {@code steps} minibatches per worker, and at
     * least {@code minEpochs}.
     *
     * @param batchesPerWorker minibatches each worker sees in one epoch
     */
    public int epochsFor(long batchesPerWorker, int minEpochs) {
        int e = steps > 0 ? (int) Math.max(1, (steps + batchesPerWorker - 1) / Math.max(1, batchesPerWorker)) : epochs;
        return Math.max(e, minEpochs);
    }
}
