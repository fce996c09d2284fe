package io.compactml.jobs.train;

import java.util.Iterator;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.util.random.XORShiftRandom;
import scala.Tuple2;

/**
 * Deals minibatches to the training workers in an order that does not depend on where the shuffle runs.
 *
 * <p>{@link JavaRDD#repartition(int)} deals round robin, but a worker's partition is the concatenation of the blocks
 * its shuffle fetched, in the order they arrived: on {@code local[n]} that is the source partitions' order, on a
 * cluster whichever executor answered first. Parameter averaging trains each worker on its partition in order, so
 * the same data and seed gave different models from run to run on a cluster. Here every minibatch gets the worker
 * that {@code repartition} would give it (the same round robin, started at the same pseudo-random worker per source
 * partition, Spark 3.5's {@code RDD.coalesce(n, shuffle = true)}) and each worker's partition is sorted by the
 * minibatch's place in the source (source partition, then position), which is the order {@code local[n]} reads. So
 * an embedded run trains exactly as before and a cluster run trains as an embedded one does.
 */
public final class MinibatchDeal {
    private MinibatchDeal() {}

    /**
     * {@code source} dealt to {@code workers} partitions, each in source order.
     *
     * @param workers the partitions to deal to, at least 1
     * @throws IllegalArgumentException when a source partition holds 2^31 or more elements
     */
    public static <T> JavaRDD<T> deal(JavaRDD<T> source, int workers) {
        JavaPairRDD<Long, T> placed = source.mapPartitionsWithIndex(
                        (Integer partition, Iterator<T> it) -> new Iterator<Tuple2<Long, T>>() {
                            private long position;

                            @Override
                            public boolean hasNext() {
                                return it.hasNext();
                            }

                            @Override
                            public Tuple2<Long, T> next() {
                                return new Tuple2<>(place(partition, position++), it.next());
                            }
                        },
                        true)
                .mapToPair(t -> t);
        return placed.repartitionAndSortWithinPartitions(new Dealer(workers)).values();
    }

    /** A source element's place: its partition in the high 32 bits, its position in the partition in the low. */
    static long place(int partition, long position) {
        if (position > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a source partition holds more than 2^31 minibatches");
        }
        return ((long) partition << 32) | position;
    }

    /**
     * The worker of the element at {@code place}: round robin from the worker after a pseudo-random start per source
     * partition, as {@code RDD.coalesce(n, shuffle = true)} keys its elements for a {@code HashPartitioner}.
     */
    static final class Dealer extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int workers;

        Dealer(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be at least 1, got " + workers);
            }
            this.workers = workers;
        }

        @Override
        public int numPartitions() {
            return workers;
        }

        @Override
        public int getPartition(Object key) {
            long place = (Long) key;
            int partition = (int) (place >>> 32);
            int position = (int) place;
            int start = new XORShiftRandom(partition).nextInt(workers);
            return Math.floorMod(start + position + 1, workers);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Dealer d && d.workers == workers;
        }

        @Override
        public int hashCode() {
            return workers;
        }
    }
}
