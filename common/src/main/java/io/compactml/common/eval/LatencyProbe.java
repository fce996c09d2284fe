package io.compactml.common.eval;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Inference latency of a model in this JVM (a DL4J network, or an ONNX model in ONNX Runtime), on the given input
 * rows: {@code runs} single-example calls and {@code runs / 10} (at least 5) calls on a batch, after as many
 * warm-up calls. What is timed is the model's own work on an input prepared once (for ONNX Runtime a tensor it
 * holds), not the copying of Java arrays in and out. Reported in milliseconds (median and 99th percentile,
 * nearest rank) and examples per second for the batch.
 */
public final class LatencyProbe {
    private LatencyProbe() {}

    /** A model ready to run on one input, again and again. */
    public interface Prepared extends AutoCloseable {
        void run();

        @Override
        default void close() {}
    }

    /** A model that can be prepared to run on an input of [rows, features]. */
    @FunctionalInterface
    public interface Target {
        Prepared prepare(INDArray input);
    }

    public static Map<String, Double> measure(MultiLayerNetwork net, INDArray rows, int runs, int batchSize) {
        return measure(input -> () -> net.output(input, false), rows, runs, batchSize);
    }

    public static Map<String, Double> measure(Target model, INDArray rows, int runs, int batchSize) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (runs <= 0) {
            return m;
        }
        double[] singles = time(model, rows.getRow(0, true).dup(), runs);
        double[] batches = time(model, tile(rows, batchSize), Math.max(5, runs / 10));
        m.put("latency_single_p50_ms", percentile(singles, 50));
        m.put("latency_single_p99_ms", percentile(singles, 99));
        m.put("latency_batch_p50_ms", percentile(batches, 50));
        m.put("batch_size", (double) batchSize);
        m.put("throughput_examples_per_sec", batchSize / (percentile(batches, 50) / 1000.0));
        return m;
    }

    private static INDArray tile(INDArray rows, int batchSize) {
        long n = rows.rows();
        INDArray all = n >= batchSize ? rows : Nd4j.tile(rows, (int) ((batchSize + n - 1) / n), 1);
        return all.get(NDArrayIndex.interval(0, batchSize), NDArrayIndex.all()).dup();
    }

    private static double[] time(Target model, INDArray input, int runs) {
        try (Prepared p = model.prepare(input)) {
            for (int i = 0; i < runs; i++) {
                p.run();
            }
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t = System.nanoTime();
                p.run();
                ms[i] = (System.nanoTime() - t) / 1e6;
            }
            return ms;
        }
    }

    /** Nearest-rank percentile of {@code values} (which it sorts). */
    static double percentile(double[] values, double p) {
        Arrays.sort(values);
        int rank = (int) Math.ceil(p / 100.0 * values.length);
        return values[Math.max(0, Math.min(values.length - 1, rank - 1))];
    }
}
