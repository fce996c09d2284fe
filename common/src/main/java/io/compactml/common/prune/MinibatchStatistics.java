package io.compactml.common.prune;

import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Statistics of a network over numbered minibatches, summed per partition and merged by adding: the gradient
 * sums of {@link ImportanceAccumulator} and the activation histograms of {@link ChannelEntropy}.
 *
 * @param <S> the statistics' own type, what {@link #merge} takes and returns
 */
public interface MinibatchStatistics<S extends MinibatchStatistics<S>> extends Serializable {
    /** Adds minibatch {@code batch}, global number {@code index} (its parity picks the half it counts in). */
    void add(MultiLayerNetwork net, DataSet batch, long index);

    /** This plus {@code other}, of the same network, into this. */
    S merge(S other);

    /** Minibatches added. */
    long batches();

    /** Examples added. */
    long examples();
}
