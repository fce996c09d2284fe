package io.compactml.common.model;

import io.compactml.common.config.CompactConfig;

/**
 * How networks are trained on Spark ({@code train.*}): by {@code train}, and by the fine-tuning of {@code prune}
 * and the student training of {@code distill}, which bring their own epochs and learning rate.
 *
 * @param epochs             passes over the training data
 * @param batchSize          minibatch size per worker
 * @param averagingFrequency minibatches each worker fits between parameter-averaging steps
 * @param workers            parallel DL4J workers (0 = Spark's default parallelism)
 * @param seed               seed for weights and shuffling
 * @param validate           evaluate on data.eval after each epoch
 */
public record TrainSettings(
        int epochs, int batchSize, int averagingFrequency, int workers, int seed, boolean validate) {

    public static TrainSettings from(CompactConfig c) {
        return new TrainSettings(
                c.getInt("train.epochs"),
                c.getInt("train.batch-size"),
                c.getInt("train.averaging-frequency"),
                c.getInt("train.workers"),
                c.getInt("train.seed"),
                c.getBoolean("train.validate"));
    }
}
