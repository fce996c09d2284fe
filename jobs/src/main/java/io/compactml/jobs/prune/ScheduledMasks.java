package io.compactml.jobs.prune;

import io.compactml.common.prune.PruneSchedule;
import io.compactml.common.prune.Pruning;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.train.TrainJob;
import java.util.OptionalDouble;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

/**
 * The pruning schedule during fine-tuning: at the start of each epoch that has a step of the
 * {@link PruneSchedule}, the masks of that step's sparsity are chosen and applied to the network the driver is
 * about to train, and a {@link MaskHook} for them replaces the previous one on the training master, so that every
 * worker keeps the pruned weights at zero after every minibatch. {@link #masks()} are the last step's.
 */
final class ScheduledMasks implements TrainJob.EpochStart {

    /** Chooses the masks (true = kept) of every weight layer at a sparsity, for the network as it is now. */
    @FunctionalInterface
    interface MaskChoice {
        boolean[][] at(MultiLayerNetwork net, double sparsity);
    }

    private final PruneSchedule schedule;
    private final int[] layers;
    private final MaskChoice choice;
    private boolean[][] masks;
    private MaskHook hook;

    ScheduledMasks(PruneSchedule schedule, int[] layers, MaskChoice choice) {
        this.schedule = schedule;
        this.layers = layers;
        this.choice = choice;
    }

    @Override
    public void before(int epoch, MultiLayerNetwork net, ParameterAveragingTrainingMaster master) {
        OptionalDouble sparsity = schedule.at(epoch);
        if (sparsity.isEmpty()) {
            return;
        }
        masks = choice.at(net, sparsity.getAsDouble());
        Pruning.applyMasks(net, layers, masks);
        if (hook != null) {
            master.removeHook(hook);
        }
        hook = new MaskHook(layers, masks);
        master.addHook(hook);
        Console.out("pruning step %d/%d: sparsity %.4f", epoch, schedule.steps(), sparsity.getAsDouble());
    }

    /** The masks of the last step taken. */
    boolean[][] masks() {
        return masks;
    }
}
