package io.compactml.common.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Inference latency of a network in this JVM, on the given input rows: {@code runs} single-example calls
 * and {@code runs / 10} (at least 5) calls on a batch, after as many warm-up calls. Reported in milliseconds
 * (median and 99th percentile, nearest rank) and examples per second for the batch.
 */
public final class LatencyProbe {
    private LatencyProbe() {}

    public static Map<String, Double> measure(MultiLayerNetwork net, INDArray rows, int runs, int batchSize) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (runs <= 0) {
            return m;
        }
        INDArray single = rows.getRow(0, true).dup();
        INDArray batch = tile(rows, batchSize);
        double[] singles = time(net, single, runs);
        double[] batches = time(net, batch, Math.max(5, runs / 10));
        m.put("latency_single_p50_ms", percentile(singles, 50));
        m.put("latency_single_p99_ms", percentile(singles, 99));
        m.put("latency_batch_p50_ms", percentile(batches, 50));
        m.put("batch_size", (double) batchSize);
        m.put("throughput_examples_per_sec", batchSize / (percentile(batches, 50) / 1000.0));
        return m;
    }

    private static INDArray tile(INDArray rows, int batchSize) {
        long n = rows.rows();
        if (n >= batchSize) {
            return rows.get(
                            org.nd4j.linalg.indexing.NDArrayIndex.interval(0, batchSize),
                            org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .dup();
        }
        return org.nd4j.linalg.factory.Nd4j.tile(rows, (int) ((batchSize + n - 1) / n), 1)
                .get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, batchSize),
                        org.nd4j.linalg.indexing.NDArrayIndex.all())
                .dup();
    }

    private static double[] time(MultiLayerNetwork net, INDArray input, int runs) {
        for (int i = 0; i < runs; i++) {
            net.output(input, false);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            net.output(input, false);
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        return ms;
    }

    /** Nearest-rank percentile of {@code values} (which it sorts). */
    static double percentile(double[] values, double p) {
        Arrays.sort(values);
        int rank = (int) Math.ceil(p / 100.0 * values.length);
        return values[Math.max(0, Math.min(values.length - 1, rank - 1))];
    }
}
