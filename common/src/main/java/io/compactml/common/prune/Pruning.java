package io.compactml.common.prune;

import io.compactml.common.Errors;
import io.compactml.common.quant.WeightQuantizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What pruning does to a network: masks on weight tensors, the polynomial-decay sparsity schedule, and
 * structured pruning that rebuilds a physically smaller network.
 *
 * <p>Masks and scores are c-order over a weight tensor ("W"): DL4J dense weights are [nIn, nOut], convolution
 * kernels [nOut, nIn, kH, kW]. A unit is an output channel: a dense layer's neuron or a convolution's filter.
 */
public final class Pruning {
    private Pruning() {}

    /**
     * The sparsity at step {@code step} (0-based) of {@code steps}: TFMOT's polynomial decay with power 3,
     * {@code s = target + (initial - target) * (1 - step / (steps - 1))^3}; a single step is the target.
     */
    public static double scheduled(double initial, double target, int step, int steps) {
        if (steps <= 1 || step >= steps - 1) {
            return target;
        }
        double left = 1.0 - step / (double) (steps - 1);
        return target + (initial - target) * left * left * left;
    }

    /** Layers with a weight tensor ("W"), in order. */
    public static int[] weightLayers(MultiLayerNetwork net) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (net.getLayer(i).getParam("W") != null) {
                out.add(i);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Layer indices named by {@code refs}: each a layer index ("0") or a DL4J layer name. An unknown reference
     * fails naming {@code key} and the layers the model has.
     */
    public static Set<Integer> resolveLayers(MultiLayerNetwork net, List<String> refs, String key) {
        Set<Integer> out = new LinkedHashSet<>();
        for (String ref : refs) {
            int found = -1;
            for (int i = 0; i < net.getnLayers(); i++) {
                if (ref.equals(Integer.toString(i)) || ref.equals(layerName(net, i))) {
                    found = i;
                    break;
                }
            }
            if (found < 0) {
                List<String> have = new ArrayList<>();
                for (int i = 0; i < net.getnLayers(); i++) {
                    have.add(i + " (" + layerName(net, i) + ", "
                            + net.getLayer(i).conf().getLayer().getClass().getSimpleName() + ")");
                }
                throw Errors.badConfigValue(
                        key,
                        refs,
                        "layers of this model, by index or name: " + String.join(", ", have) + "; it has no layer '"
                                + ref + "'");
            }
            out.add(found);
        }
        return out;
    }

    /** The DL4J name of layer {@code i} (DL4J names unnamed layers "layer" + index). */
    public static String layerName(MultiLayerNetwork net, int i) {
        String name = net.getLayer(i).conf().getLayer().getLayerName();
        return name == null ? Integer.toString(i) : name;
    }

    /** Sets every weight whose mask entry is false to zero, in place. */
    public static void applyMasks(MultiLayerNetwork net, int[] layers, boolean[][] masks) {
        for (int t = 0; t < layers.length; t++) {
            INDArray w = net.getLayer(layers[t]).getParam("W");
            w.muli(maskArray(masks[t], w.shape()).castTo(w.dataType()));
        }
    }

    /** A mask as a 0/1 float array of {@code shape} (c-order). */
    public static INDArray maskArray(boolean[] mask, long[] shape) {
        float[] m = new float[mask.length];
        for (int k = 0; k < m.length; k++) {
            m[k] = mask[k] ? 1f : 0f;
        }
        return Nd4j.create(m, shape, 'c');
    }

    /** Weights that a mask prunes but that are not zero (0 after a correct masked fine-tuning). */
    public static long maskViolations(MultiLayerNetwork net, int[] layers, boolean[][] masks) {
        long bad = 0;
        for (int t = 0; t < layers.length; t++) {
            float[] w = net.getLayer(layers[t]).getParam("W").dup('c').data().asFloat();
            for (int k = 0; k < w.length; k++) {
                if (!masks[t][k] && w[k] != 0f) {
                    bad++;
                }
            }
        }
        return bad;
    }

    /** The weights ("W") of {@code layers} that are exactly zero. */
    public static long zeroCount(MultiLayerNetwork net, int[] layers) {
        long zeros = 0;
        for (int layer : layers) {
            for (float x : net.getLayer(layer).getParam("W").dup('c').data().asFloat()) {
                if (x == 0f) {
                    zeros++;
                }
            }
        }
        return zeros;
    }

    /** Zero weights / all weights of one tensor. */
    public static double sparsity(INDArray w) {
        float[] v = w.dup('c').data().asFloat();
        long zeros = 0;
        for (float x : v) {
            if (x == 0f) {
                zeros++;
            }
        }
        return v.length == 0 ? 0 : zeros / (double) v.length;
    }

    /** The units (output channels) of a weight tensor of {@code shape}. */
    public static int units(long[] shape) {
        return (int) (shape.length == 4 ? shape[0] : shape[1]);
    }

    /** Per unit, the sum of its weights' scores (the L1 norm for magnitude scores). */
    public static float[] unitScores(float[] scores, long[] shape) {
        int units = units(shape);
        double[] sums = new double[units];
        for (int k = 0; k < scores.length; k++) {
            sums[WeightQuantizer.channel(shape, units, k)] += scores[k];
        }
        float[] out = new float[units];
        for (int u = 0; u < units; u++) {
            out[u] = (float) sums[u];
        }
        return out;
    }

    /** The units kept when {@code fraction} of them, the lowest-scored, are removed; at least one is kept. */
    public static boolean[] keptUnits(float[] unitScores, double fraction) {
        long removed = Math.min(PruneSelection.prunedCount(unitScores.length, fraction), unitScores.length - 1L);
        return PruneSelection.mask(unitScores, removed / (double) unitScores.length);
    }

    /**
     * A physically smaller copy of {@code net}: for each layer in {@code kept} only the units marked true stay
     * (its weights, bias), and the next layer with parameters loses the matching inputs (a convolution's input
     * channels, a dense layer's rows; after a convolution and a flattening, each channel's {@code h * w} rows).
     * Layers without parameters between them (pooling) pass channels through. The copy computes what
     * {@code net} computes with the removed units' weights and biases set to zero, for activations with
     * {@code f(0) = 0} (ReLU, identity, tanh).
     */
    public static MultiLayerNetwork removeUnits(MultiLayerNetwork net, Map<Integer, boolean[]> kept) {
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(
                net.getLayerWiseConfigurations().toJson());
        Selected selected = shrinkConfiguration(net, conf, kept);
        MultiLayerNetwork out = new MultiLayerNetwork(conf);
        out.init();
        copyKeptParams(net, out, selected);
        return out;
    }

    /**
     * Which units each layer keeps: its own outputs ({@code out}, null when all), and the inputs it keeps because
     * the layer before lost units ({@code in}, in blocks of {@code inBlock} rows: 1, or a flattened channel's
     * {@code h * w}).
     */
    private record Selected(int[][] out, int[][] in, long[] inBlock) {}

    /** Rewrites {@code conf} (a copy of {@code net}'s) to the smaller shapes and returns what each layer keeps. */
    private static Selected shrinkConfiguration(
            MultiLayerNetwork net, MultiLayerConfiguration conf, Map<Integer, boolean[]> kept) {
        int n = net.getnLayers();
        Selected sel = new Selected(new int[n][], new int[n][], new long[n]);
        for (Map.Entry<Integer, boolean[]> e : kept.entrySet()) {
            int layer = e.getKey();
            int[] keep = indices(e.getValue());
            Layer lc = conf.getConf(layer).getLayer();
            if (!(lc instanceof FeedForwardLayer ff) || net.getLayer(layer).getParam("W") == null) {
                throw new IllegalArgumentException("layer " + layer + " has no units to remove");
            }
            if (keep.length == e.getValue().length) {
                continue;
            }
            sel.out()[layer] = keep;
            ff.setNOut(keep.length);
            int next = nextWithParams(net, layer);
            Layer nc = conf.getConf(next).getLayer();
            if (!(nc instanceof FeedForwardLayer nff)) {
                throw new IllegalArgumentException("layer " + next + " ("
                        + nc.getClass().getSimpleName() + ") after a pruned layer is not supported");
            }
            long block = 1;
            InputPreProcessor pre = conf.getInputPreProcess(next);
            if (lc instanceof ConvolutionLayer && !(nc instanceof ConvolutionLayer)) {
                if (!(pre instanceof CnnToFeedForwardPreProcessor flat)) {
                    throw new IllegalArgumentException(
                            "layer " + next + " follows a convolution without a" + " CnnToFeedForwardPreProcessor");
                }
                block = flat.getInputHeight() * flat.getInputWidth();
                flat.setNumChannels(keep.length);
            }
            nff.setNIn(keep.length * block);
            sel.in()[next] = keep;
            sel.inBlock()[next] = block;
        }
        return sel;
    }

    /** The next layer after {@code layer} with parameters: the one whose inputs are its units. */
    private static int nextWithParams(MultiLayerNetwork net, int layer) {
        int next = layer + 1;
        while (next < net.getnLayers() && net.getLayer(next).numParams() == 0) {
            next++;
        }
        if (next == net.getnLayers()) {
            throw new IllegalArgumentException("layer " + layer + " is the output layer: its units stay");
        }
        return next;
    }

    /** Copies into {@code out} the parameters of {@code net} that {@code sel} keeps. */
    private static void copyKeptParams(MultiLayerNetwork net, MultiLayerNetwork out, Selected sel) {
        for (int i = 0; i < net.getnLayers(); i++) {
            for (Map.Entry<String, INDArray> p : net.getLayer(i).paramTable().entrySet()) {
                INDArray v = p.getValue();
                float[] data = v.castTo(DataType.FLOAT).dup('c').data().asFloat();
                long[] shape = v.shape();
                boolean weight = p.getKey().equals("W");
                boolean conv = shape.length == 4;
                if (sel.out()[i] != null && (weight || p.getKey().equals("b"))) {
                    // units: the last axis of dense weights and of biases [1, nOut], the first of kernels
                    int axis = weight && conv ? 0 : shape.length - 1;
                    data = select(data, shape, axis, sel.out()[i], 1);
                    shape = shape.clone();
                    shape[axis] = sel.out()[i].length;
                }
                if (sel.in()[i] != null && weight) {
                    int axis = conv ? 1 : 0;
                    data = select(data, shape, axis, sel.in()[i], sel.inBlock()[i]);
                    shape = shape.clone();
                    shape[axis] = sel.in()[i].length * sel.inBlock()[i];
                }
                out.getLayer(i)
                        .setParam(p.getKey(), Nd4j.create(data, shape, 'c').castTo(v.dataType()));
            }
        }
    }

    private static int[] indices(boolean[] keep) {
        int[] idx = new int[keep.length];
        int n = 0;
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                idx[n++] = i;
            }
        }
        return Arrays.copyOf(idx, n);
    }

    /**
     * The c-order {@code data} of {@code shape} with only the blocks {@code keep} along {@code axis}, where the
     * axis is read as groups of {@code block} consecutive indices (a flattened channel's h * w positions).
     */
    static float[] select(float[] data, long[] shape, int axis, int[] keep, long block) {
        long outer = 1;
        for (int d = 0; d < axis; d++) {
            outer *= shape[d];
        }
        long inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long along = shape[axis];
        long run = block * inner;
        float[] out = new float[Math.toIntExact(outer * keep.length * run)];
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (int u : keep) {
                long from = (o * along + u * block) * inner;
                System.arraycopy(data, (int) from, out, pos, (int) run);
                pos += (int) run;
            }
        }
        return out;
    }
}
