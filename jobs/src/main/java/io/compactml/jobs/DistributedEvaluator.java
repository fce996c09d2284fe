package io.compactml.jobs;

import io.compactml.common.data.Task;
import io.compactml.common.eval.ClassificationTally;
import io.compactml.common.eval.MetricTally;
import io.compactml.common.eval.RegressionTally;
import io.compactml.common.model.ModelIO;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Batched inference over an RDD of minibatches: the model zip is broadcast once, each partition restores it
 * once and folds its batches into a tally; tallies are tree-reduced on the way to the driver.
 */
public final class DistributedEvaluator {
    private DistributedEvaluator() {
    }

    /** Classification or regression tally of {@code modelZip} over {@code batches}. */
    public static MetricTally<?> evaluate(JavaSparkContext jsc, byte[] modelZip, String source,
                                          JavaRDD<DataSet> batches, Task task, int classes, int topK) {
        Broadcast<byte[]> model = jsc.broadcast(modelZip);
        try {
            if (task == Task.CLASSIFICATION) {
                return batches.mapPartitions((Iterator<DataSet> it) -> List.of(
                                fold(ModelIO.fromBytes(model.value(), source), it, new ClassificationTally(classes, topK)))
                        .iterator()).treeReduce(ClassificationTally::merge);
            }
            return batches.mapPartitions((Iterator<DataSet> it) -> List.of(
                            fold(ModelIO.fromBytes(model.value(), source), it, new RegressionTally()))
                    .iterator()).treeReduce(RegressionTally::merge);
        } finally {
            model.destroy();
        }
    }

    private static <T extends MetricTally<T>> T fold(MultiLayerNetwork net, Iterator<DataSet> it, T tally) {
        while (it.hasNext()) {
            DataSet ds = it.next();
            tally.add(net.output(ds.getFeatures(), false), ds.getLabels());
        }
        return tally;
    }
}
