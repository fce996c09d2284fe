package io.compactml.common.prune;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Partial sums of gradient statistics for every weight tensor ("W") of a network, over minibatches: for the
 * gradient g of a minibatch's mean loss, {@code taylor} sums |w * g| (first-order Taylor) and {@code fisher}
 * sums g^2 (the empirical Fisher diagonal), each in double. Minibatches are estimates of the per-example
 * statistics at one backward pass per minibatch (per-example gradients would cost one per example); the
 * batches are aligned to global row numbers, so every batch, and its gradient, is the same in any
 * partitioning, and only the order of the double sums differs.
 *
 * <p>Sums are kept apart for even and odd global batch numbers, so that the stability of the ranking can be
 * read from two halves of the data. Memory: 4 doubles per weight, whatever the data size; merging is adding.
 */
public final class ImportanceAccumulator implements MinibatchStatistics<ImportanceAccumulator> {
    private static final long serialVersionUID = 1L;

    private final int[] layers;
    /** Where each weight tensor lies in the network's flat parameter (and gradient) vector, and its layout. */
    private final int[] offsets;

    private final long[][] shapes;
    private final char[] orders;
    private final double[][][] taylor;
    private final double[][][] fisher;
    private final long[] batches = new long[2];
    private long examples;

    public ImportanceAccumulator(MultiLayerNetwork net) {
        List<Integer> withWeights = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (net.getLayer(i).getParam("W") != null) {
                withWeights.add(i);
            }
        }
        layers = withWeights.stream().mapToInt(Integer::intValue).toArray();
        offsets = new int[layers.length];
        shapes = new long[layers.length][];
        orders = new char[layers.length];
        for (int t = 0; t < layers.length; t++) {
            // DL4J's parameter views are contiguous blocks of the flat parameter vector, each in its own order
            INDArray w = net.getLayer(layers[t]).getParam("W");
            offsets[t] = Math.toIntExact(w.offset());
            shapes[t] = w.shape();
            orders[t] = w.ordering();
        }
        taylor = new double[2][layers.length][];
        fisher = new double[2][layers.length][];
        for (int h = 0; h < 2; h++) {
            for (int t = 0; t < layers.length; t++) {
                int n = (int) net.getLayer(layers[t]).getParam("W").length();
                taylor[h][t] = new double[n];
                fisher[h][t] = new double[n];
            }
        }
    }

    /** Layer indices of the weight tensors, in order. */
    public int[] layers() {
        return layers.clone();
    }

    /** One forward and backward pass of {@code batch} (global batch number {@code index}), its gradient summed. */
    @Override
    public void add(MultiLayerNetwork net, DataSet batch, long index) {
        net.setInput(batch.getFeatures());
        net.setLabels(batch.getLabels());
        net.computeGradientAndScore();
        // the flat parameter and gradient vectors share one layout: read both in place, no copy per minibatch
        FloatBuffer w = floats(net.params());
        FloatBuffer grad = floats(net.gradient().gradient());
        // DL4J's backward pass gives the gradient of the summed loss; its updater divides by the batch size
        double perExample = 1.0 / batch.numExamples();
        int h = (int) (index & 1);
        for (int t = 0; t < layers.length; t++) {
            double[] ta = taylor[h][t];
            double[] fi = fisher[h][t];
            int off = offsets[t];
            for (int k = 0; k < ta.length; k++) {
                double gk = grad.get(off + k) * perExample;
                ta[k] += Math.abs(w.get(off + k) * gk);
                fi[k] += gk * gk;
            }
        }
        batches[h]++;
        examples += batch.numExamples();
    }

    private static FloatBuffer floats(INDArray a) {
        INDArray f = a.dataType() == DataType.FLOAT && !a.isView()
                ? a
                : a.castTo(DataType.FLOAT).dup();
        return f.data().asNioFloat();
    }

    /** This plus another accumulator of the same network, into this one. */
    @Override
    public ImportanceAccumulator merge(ImportanceAccumulator o) {
        for (int h = 0; h < 2; h++) {
            for (int t = 0; t < layers.length; t++) {
                add(taylor[h][t], o.taylor[h][t]);
                add(fisher[h][t], o.fisher[h][t]);
            }
            batches[h] += o.batches[h];
        }
        examples += o.examples;
        return this;
    }

    private static void add(double[] a, double[] b) {
        for (int k = 0; k < a.length; k++) {
            a[k] += b[k];
        }
    }

    /** Examples seen, in all minibatches. */
    @Override
    public long examples() {
        return examples;
    }

    /** Minibatches seen. */
    @Override
    public long batches() {
        return batches[0] + batches[1];
    }

    /**
     * Mean scores per weight tensor (c-order) for a gradient criterion: over all batches ({@code half = -1}), the
     * even ({@code 0}) or the odd ({@code 1}) ones.
     */
    public float[][] scores(Criterion c, int half) {
        if (c == Criterion.MAGNITUDE) {
            throw new IllegalArgumentException("magnitude needs no data: use magnitude(net)");
        }
        double[][][] sums = c == Criterion.TAYLOR ? taylor : fisher;
        long n = half < 0 ? batches() : batches[half];
        float[][] out = new float[layers.length][];
        for (int t = 0; t < layers.length; t++) {
            float[] mean = new float[sums[0][t].length];
            for (int k = 0; k < mean.length; k++) {
                double s = half < 0 ? sums[0][t][k] + sums[1][t][k] : sums[half][t][k];
                mean[k] = n == 0 ? 0f : (float) (s / n);
            }
            // sums are kept in the tensor's own layout (dense weights are 'f'); scores are c-order
            out[t] = Nd4j.create(mean, shapes[t], orders[t]).dup('c').data().asFloat();
        }
        return out;
    }

    /** |w| of every weight tensor (c-order), in the order of {@link #layers()}. */
    public static float[][] magnitude(MultiLayerNetwork net, int[] layers) {
        float[][] out = new float[layers.length][];
        for (int t = 0; t < layers.length; t++) {
            float[] w = net.getLayer(layers[t]).getParam("W").dup('c').data().asFloat();
            for (int k = 0; k < w.length; k++) {
                w[k] = Math.abs(w[k]);
            }
            out[t] = w;
        }
        return out;
    }
}
