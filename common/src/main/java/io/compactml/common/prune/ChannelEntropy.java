package io.compactml.common.prune;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The entropy criterion: per channel of every hidden weight layer (a dense layer's neuron, a convolution's
 * filter), an exactly mergeable histogram of its activation over the data, and the Shannon entropy of that
 * histogram in bits. Following Luo and Wu ("An Entropy-based Pruning Method for CNN Compression", 2017), a
 * filter's value for one example is its output feature map averaged over the spatial positions (global average
 * pooling); a dense neuron's is its output. Outputs are taken after the layer's activation function. A channel
 * whose activation does not vary over the data (always zero: a dead ReLU; or a constant) scores 0 bits and is the
 * first to go; one that spreads evenly over the bins scores the most.
 *
 * <p>Binning: the score is the entropy of the channel's values over {@value #BINS} equal-width bins spanning its
 * [min, max] over the data, {@code H = -sum_i p_i log2 p_i} (0 to log2 {@value #BINS} = 6 bits; 0 when min =
 * max), so it does not depend on the channel's scale. Since [min, max] is known only after the pass, each channel
 * first counts its values on a finer grid fixed in advance: {@value #GRID} bins over [-2^e, 2^e), where 2^e is the
 * smallest power of two above every |value| so far. When a larger value arrives the grid doubles its range by
 * adding neighbouring bins in pairs, and two grids merge at the larger range the same way; because the bins of
 * the grids nest, the counts at the final range are those the final grid would have counted directly, in any
 * partitioning and order (the calibration histograms' property, {@link io.compactml.common.quant.FloatHistogram},
 * at 16 KiB a channel instead of 8 MiB). A grid bin goes to the entropy bin that holds its centre; a grid bin is at
 * most max|x| / {@code (GRID / 4)} wide, so for a channel whose range starts at zero (after a ReLU) every entropy bin
 * holds at least {@code GRID / (4 BINS)} = 8 grid bins. NaN and infinite values are counted apart and not binned.
 *
 * <p>Even and odd global minibatch numbers are counted apart (as {@link ImportanceAccumulator} does), so the
 * stability of the ranking can be read from two halves of the data. Memory: 2 x {@value #GRID} longs a channel,
 * whatever the data size; merging is adding.
 */
public final class ChannelEntropy implements MinibatchStatistics<ChannelEntropy> {
    private static final long serialVersionUID = 1L;

    private static final String WS_ACTIVATIONS = "COMPACTML_ENTROPY_ACTIVATIONS";
    private static final String WS_WORKING = "COMPACTML_ENTROPY_WORKING_MEM";
    private static final String WS_RNN_LOOP = "COMPACTML_ENTROPY_RNN_LOOP";

    /** DL4J's configuration of its activation workspaces: sized on the first minibatch, then reused. */
    private static final WorkspaceConfiguration WS_CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .overallocationLimit(0.05)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT)
            .policySpill(SpillPolicy.REALLOCATE)
            .policyAllocation(AllocationPolicy.OVERALLOCATE)
            .build();

    /** Equal-width bins over a channel's [min, max] that the entropy is computed over. */
    public static final int BINS = 64;

    /** Bins of the fixed grid a channel counts its values on, over [-2^e, 2^e). */
    static final int GRID = 2048;

    private static final int HALF = GRID / 2;
    private static final int GRID_BITS = Integer.numberOfTrailingZeros(GRID);

    private final int[] layers;
    private final boolean[] channelsLast;
    private final Grid[][][] grids;
    private final long[] batches = new long[2];
    private long examples;

    /** Histograms for the hidden weight layers of {@code net}: every layer with weights but the output layer. */
    public ChannelEntropy(MultiLayerNetwork net) {
        layers = hiddenLayers(net);
        channelsLast = new boolean[layers.length];
        grids = new Grid[2][layers.length][];
        for (int t = 0; t < layers.length; t++) {
            INDArray w = net.getLayer(layers[t]).getParam("W");
            if (net.getLayer(layers[t]).conf().getLayer() instanceof ConvolutionLayer conv) {
                channelsLast[t] = conv.getCnn2dDataFormat() == CNN2DFormat.NHWC;
            }
            int units = Pruning.units(w.shape());
            for (int h = 0; h < 2; h++) {
                grids[h][t] = new Grid[units];
                for (int u = 0; u < units; u++) {
                    grids[h][t][u] = new Grid();
                }
            }
        }
    }

    /** The layers with a weight tensor ("W") but the last layer: those whose channels structured pruning removes. */
    public static int[] hiddenLayers(MultiLayerNetwork net) {
        List<Integer> out = new ArrayList<>();
        for (int layer : Pruning.weightLayers(net)) {
            if (layer != net.getnLayers() - 1) {
                out.add(layer);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Layer indices of the scored layers, in order. */
    public int[] layers() {
        return layers.clone();
    }

    /**
     * One forward pass of the features of {@code batch} (minibatch number {@code index} of the data; labels are
     * not read), each hidden layer's per-channel values added to its histograms.
     */
    @Override
    public void add(MultiLayerNetwork net, DataSet batch, long index) {
        float[][] values = channelValues(net, batch.getFeatures());
        int h = (int) (index & 1);
        for (int t = 0; t < layers.length; t++) {
            add(grids[h][t], values[t]);
        }
        batches[h]++;
        examples += batch.getFeatures().size(0);
    }

    /**
     * The forward pass up to the last scored layer (the output layer is not computed), and each scored layer's
     * per-channel values, f-order [examples, channels] (each channel's values contiguous): a dense layer's output,
     * a convolution's output averaged over the spatial positions.
     *
     * <p>The activations live in ND4J workspaces, reused from one minibatch to the next, as DL4J's own training
     * forward pass keeps them ({@code ffToLayerActivationsInWs}); {@code feedForward} would allocate every
     * layer's activations afresh for each minibatch (a convolution's output is 25 MB at batch 256) and leave them
     * to the garbage collector.
     */
    private float[][] channelValues(MultiLayerNetwork net, INDArray features) {
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.builder()
                .with(ArrayType.INPUT, WS_ACTIVATIONS, WS_CONFIG)
                .with(ArrayType.ACTIVATIONS, WS_ACTIVATIONS, WS_CONFIG)
                .with(ArrayType.FF_WORKING_MEM, WS_WORKING, WS_CONFIG)
                .with(ArrayType.RNN_FF_LOOP_WORKING_MEM, WS_RNN_LOOP, WS_CONFIG)
                .build();
        mgr.setHelperWorkspacePointers(new HashMap<>());
        float[][] out = new float[layers.length][];
        int examples = (int) features.size(0);
        int last = layers[layers.length - 1];
        try (MemoryWorkspace ws = mgr.notifyScopeEntered(ArrayType.ACTIVATIONS)) {
            INDArray x = features;
            for (int i = 0, t = 0; i <= last; i++) {
                try (MemoryWorkspace working = mgr.notifyScopeEntered(ArrayType.FF_WORKING_MEM)) {
                    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(i);
                    if (pre != null) {
                        x = pre.preProcess(x, examples, mgr);
                    }
                    x = net.getLayer(i).activate(x, false, mgr);
                }
                if (t < layers.length && layers[t] == i) {
                    // a filter's value per example: its feature map averaged over the spatial positions
                    INDArray a = x.rank() == 4 ? (channelsLast[t] ? x.mean(1, 2) : x.mean(2, 3)) : x;
                    out[t++] = a.castTo(DataType.FLOAT).dup('f').data().asFloat();
                }
            }
            // the layers hold their inputs, which the workspace reuses for the next minibatch
            for (int i = 0; i <= last; i++) {
                net.getLayer(i).clear();
            }
        }
        return out;
    }

    /** Adds per-channel values, f-order [examples, channels] (channel by channel), to one layer's grids. */
    static void add(Grid[] channels, float[] values) {
        int rows = values.length / channels.length;
        for (int u = 0; u < channels.length; u++) {
            channels[u].add(values, u * rows, (u + 1) * rows);
        }
    }

    /** This plus another accumulator of the same network, into this one. */
    @Override
    public ChannelEntropy merge(ChannelEntropy o) {
        for (int h = 0; h < 2; h++) {
            for (int t = 0; t < layers.length; t++) {
                for (int u = 0; u < grids[h][t].length; u++) {
                    grids[h][t][u].merge(o.grids[h][t][u]);
                }
            }
            batches[h] += o.batches[h];
        }
        examples += o.examples;
        return this;
    }

    /** Examples seen. */
    @Override
    public long examples() {
        return examples;
    }

    /** Minibatches seen. */
    @Override
    public long batches() {
        return batches[0] + batches[1];
    }

    /** NaN or infinite values seen, over all channels (not binned). */
    public long nonFinite() {
        long n = 0;
        for (Grid[][] half : grids) {
            for (Grid[] layer : half) {
                for (Grid g : layer) {
                    n += g.nonFinite;
                }
            }
        }
        return n;
    }

    /**
     * Entropy in bits per channel of every scored layer, in the order of {@link #layers()}: over all minibatches
     * ({@code half = -1}), the even ({@code 0}) or the odd ({@code 1}) ones.
     */
    public float[][] scores(int half) {
        float[][] out = new float[layers.length][];
        for (int t = 0; t < layers.length; t++) {
            out[t] = new float[grids[0][t].length];
            for (int u = 0; u < out[t].length; u++) {
                Grid g = half < 0 ? new Grid().merge(grids[0][t][u]).merge(grids[1][t][u]) : grids[half][t][u];
                out[t][u] = (float) g.entropyBits(BINS);
            }
        }
        return out;
    }

    /** Shannon entropy in bits of a histogram, {@code -sum p log2 p} over its nonempty bins; 0 when empty. */
    public static double entropyBits(long[] counts) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        if (n == 0) {
            return 0;
        }
        double h = 0;
        for (long c : counts) {
            if (c > 0) {
                double p = c / (double) n;
                h -= p * Math.log(p);
            }
        }
        // a single bin is exactly 0 bits, not a rounding error of one
        return Math.max(0, h / Math.log(2));
    }

    /**
     * One channel's counts on the grid of {@value #GRID} bins over [-2^e, 2^e): value v is in bin
     * {@code floor(v 2^(log2 GRID - 1 - e)) + GRID / 2}, computed in double, where the scaling by a power of two is
     * exact. {@code e} is {@link Integer#MIN_VALUE} while only zeros (bin {@code GRID / 2} at any e) were seen.
     */
    static final class Grid implements Serializable {
        private static final long serialVersionUID = 1L;
        private static final int NONE = Integer.MIN_VALUE;

        private transient long[] counts = new long[GRID];
        private int exponent = NONE;
        private double scale;
        private float min = Float.POSITIVE_INFINITY;
        private float max = Float.NEGATIVE_INFINITY;
        private long nonFinite;

        // Java/Kryo-Java serialization: only the nonempty bins, as (index, count) pairs
        private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
            out.defaultWriteObject();
            int nonempty = 0;
            for (long c : counts) {
                if (c != 0) {
                    nonempty++;
                }
            }
            out.writeInt(nonempty);
            for (int j = 0; j < GRID; j++) {
                if (counts[j] != 0) {
                    out.writeShort(j);
                    out.writeLong(counts[j]);
                }
            }
        }

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            counts = new long[GRID];
            int nonempty = in.readInt();
            for (int k = 0; k < nonempty; k++) {
                counts[in.readUnsignedShort()] = in.readLong();
            }
        }

        void add(float v) {
            add(new float[] {v}, 0, 1);
        }

        /**
         * Adds {@code v[from]} to {@code v[to - 1]}, one channel's values of a minibatch. The range widens once, to
         * the largest finite |value| among them, then every value is binned; the counts are those of adding the
         * values one by one (the grids nest).
         */
        void add(float[] v, int from, int to) {
            float maxAbs = 0f;
            for (int i = from; i < to; i++) {
                float a = Math.abs(v[i]);
                // false for NaN and infinity
                if (a <= Float.MAX_VALUE) {
                    maxAbs = Math.max(maxAbs, a);
                }
            }
            if (maxAbs > 0f) {
                // 2^(e - 1) <= |v| < 2^e; subnormals have exponent -127, so e = -126 holds them too
                int e = Math.getExponent(maxAbs) + 1;
                if (e > exponent) {
                    widen(e);
                }
            }
            // while only zeros were seen the scale is 0: every value (all zero) lands in the centre bin
            double sc = scale;
            float lo = min;
            float hi = max;
            for (int i = from; i < to; i++) {
                float x = v[i];
                if (!(Math.abs(x) <= Float.MAX_VALUE)) {
                    nonFinite++;
                    continue;
                }
                counts[(int) Math.floor(x * sc) + HALF]++;
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
            min = lo;
            max = hi;
        }

        /** Doubles the range until it is [-2^e, 2^e): bins j and j + 1 of the even pairs around the centre merge. */
        private void widen(int e) {
            if (exponent != NONE) {
                counts = coarsened(counts, e - exponent);
            }
            exponent = e;
            scale = Math.scalb(1.0, GRID_BITS - 1 - e);
        }

        /** {@code c} at a range 2^shift times wider: bin j goes to {@code floor((j - GRID/2) / 2^shift) + GRID/2}. */
        private static long[] coarsened(long[] c, int shift) {
            if (shift == 0) {
                return c;
            }
            int s = Math.min(shift, 31);
            long[] out = new long[GRID];
            for (int j = 0; j < GRID; j++) {
                if (c[j] != 0) {
                    out[((j - HALF) >> s) + HALF] += c[j];
                }
            }
            return out;
        }

        /** Adds {@code o} into this grid, both at the wider of the two ranges; {@code o} is unchanged. */
        Grid merge(Grid o) {
            if (o.exponent != NONE && o.exponent > exponent) {
                widen(o.exponent);
            }
            long[] theirs = o.exponent == NONE ? o.counts : coarsened(o.counts, exponent - o.exponent);
            if (o.exponent == NONE && exponent != NONE) {
                // only zeros: all in the centre bin, which is the centre at every range
                counts[HALF] += o.counts[HALF];
            } else {
                for (int j = 0; j < GRID; j++) {
                    counts[j] += theirs[j];
                }
            }
            min = Math.min(min, o.min);
            max = Math.max(max, o.max);
            nonFinite += o.nonFinite;
            return this;
        }

        /** The counts on the grid at its current range (a copy). */
        long[] counts() {
            return counts.clone();
        }

        /** The entropy in bits of the counts over {@code bins} equal-width bins spanning [min, max]. */
        double entropyBits(int bins) {
            if (!(max > min)) {
                return 0;
            }
            long[] uniform = new long[bins];
            double width = exponent == NONE ? 0 : Math.scalb(1.0, exponent + 1 - GRID_BITS);
            double span = (double) max - min;
            for (int j = 0; j < GRID; j++) {
                if (counts[j] != 0) {
                    double centre = (j - HALF + 0.5) * width;
                    int b = (int) Math.floor((centre - min) / span * bins);
                    uniform[Math.max(0, Math.min(bins - 1, b))] += counts[j];
                }
            }
            return ChannelEntropy.entropyBits(uniform);
        }
    }
}
