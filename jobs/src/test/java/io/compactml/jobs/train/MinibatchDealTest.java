package io.compactml.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.jobs.SharedSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

class MinibatchDealTest {
    private static JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(SharedSpark.session().sparkContext());
    }

    /** Elements "p:k" (source partition p, position k) in {@code sizes.length} partitions of those sizes. */
    private static JavaRDD<String> placed(int... sizes) {
        List<Integer> partitions = new ArrayList<>();
        for (int p = 0; p < sizes.length; p++) {
            partitions.add(p);
        }
        int[] bounds = sizes.clone();
        // one partition number per partition, each expanded to its elements
        return jsc().parallelize(partitions, sizes.length)
                .flatMap(p -> named(p, bounds[p]).iterator());
    }

    private static List<String> named(int partition, int size) {
        List<String> out = new ArrayList<>();
        for (int k = 0; k < size; k++) {
            out.add(partition + ":" + k);
        }
        return out;
    }

    @Test
    void dealsEveryElementWhereRepartitionDoesInTheOrderAnEmbeddedRunReadsThem() {
        for (int workers : new int[] {1, 2, 3, 5}) {
            JavaRDD<String> source = placed(7, 3, 12, 1);
            List<List<String>> expected = source.repartition(workers).glom().collect();
            List<List<String>> dealt =
                    MinibatchDeal.deal(source, workers).glom().collect();
            assertEquals(expected, dealt, workers + " workers");
        }
    }

    @Test
    void eachWorkerHoldsItsElementsInSourceOrderAndRoundRobinBalancesThem() {
        List<List<String>> dealt =
                MinibatchDeal.deal(placed(7, 3, 12, 1), 3).glom().collect();
        assertEquals(3, dealt.size());
        int total = 0;
        for (List<String> worker : dealt) {
            total += worker.size();
            for (int i = 1; i < worker.size(); i++) {
                String[] a = worker.get(i - 1).split(":");
                String[] b = worker.get(i).split(":");
                int pa = Integer.parseInt(a[0]);
                int pb = Integer.parseInt(b[0]);
                assertTrue(
                        pa < pb || (pa == pb && Integer.parseInt(a[1]) + 3 == Integer.parseInt(b[1])),
                        "source order, every third element of a partition: " + worker);
            }
        }
        assertEquals(23, total);
        // round robin within each source partition: a partition of n elements gives each worker n/3 or n/3 + 1
        for (int p = 0; p < 4; p++) {
            int n = new int[] {7, 3, 12, 1}[p];
            for (List<String> worker : dealt) {
                String prefix = p + ":";
                long mine = worker.stream().filter(s -> s.startsWith(prefix)).count();
                assertTrue(mine == n / 3 || mine == n / 3 + 1, "partition " + p + ": " + dealt);
            }
        }
    }

    @Test
    void noWorkersIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MinibatchDeal.Dealer(0));
    }
}
