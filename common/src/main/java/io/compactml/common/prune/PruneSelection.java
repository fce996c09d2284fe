package io.compactml.common.prune;

import java.util.Arrays;

/**
 * Which weights unstructured pruning removes: exactly {@code round(sparsity * n)} of {@code n} candidates (at most
 * {@code n - 1} of one tensor, below), those
 * with the lowest importance, ties broken by position (the earlier one is pruned first), so the count is
 * exact and the choice deterministic whatever the scores. Global selection ranks all tensors together;
 * layer-wise selection applies the sparsity to each tensor on its own.
 *
 * <p>No tensor is ever pruned whole: its most important weight stays, as TFMOT keeps {@code max(1, round(n (1 -
 * s)))} (a dense layer with no weights predicts a constant, and fine-tuning under the mask cannot bring it back:
 * 8 weights at 95 % layer sparsity would otherwise all go). In global scope the weight kept is replaced by the next
 * in the ranking, so the total stays exact while other tensors have weights to give.
 *
 * <p>Scores must be finite and non-negative (every criterion CompactML computes is). The ranking sorts one
 * {@code long} per weight (the score's bits above its position), so it costs 8 bytes a weight and
 * {@code O(n log n)} time.
 */
public final class PruneSelection {
    private PruneSelection() {}

    /** How many of {@code n} weights a sparsity prunes: {@code round(sparsity * n)}, half up. */
    public static long prunedCount(long n, double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity " + sparsity + " is not in [0, 1)");
        }
        return Math.round(sparsity * n);
    }

    /** Layer-wise: the mask (true = kept) of one tensor at {@code sparsity}. */
    public static boolean[] mask(float[] scores, double sparsity) {
        return masks(new float[][] {scores}, sparsity)[0];
    }

    /** Global: one ranking over all tensors; {@code round(sparsity * total)} weights pruned in all. */
    public static boolean[][] masks(float[][] scores, double sparsity) {
        int total = 0;
        for (float[] s : scores) {
            total = Math.addExact(total, s.length);
        }
        long[] keys = new long[total];
        int pos = 0;
        for (int t = 0; t < scores.length; t++) {
            for (float v : scores[t]) {
                if (!(v >= 0) || Float.isInfinite(v)) {
                    throw new IllegalArgumentException(
                            "importance score " + v + " at position " + pos + " is not finite and non-negative");
                }
                // for non-negative floats the raw bits order like the values (-0 is read as +0)
                keys[pos] = ((long) Float.floatToRawIntBits(v + 0f) << 32) | pos;
                pos++;
            }
        }
        Arrays.sort(keys);
        int pruned = (int) prunedCount(total, sparsity);
        boolean[][] masks = new boolean[scores.length][];
        int[] offsets = new int[scores.length];
        int offset = 0;
        for (int t = 0; t < scores.length; t++) {
            masks[t] = new boolean[scores[t].length];
            Arrays.fill(masks[t], true);
            offsets[t] = offset;
            offset += scores[t].length;
        }
        int[] left = new int[scores.length];
        for (int t = 0; t < scores.length; t++) {
            left[t] = scores[t].length;
        }
        for (int i = 0, done = 0; i < keys.length && done < pruned; i++) {
            int p = (int) keys[i];
            int t = tensorOf(offsets, p);
            if (left[t] > 1) {
                masks[t][p - offsets[t]] = false;
                left[t]--;
                done++;
            }
        }
        return masks;
    }

    private static int tensorOf(int[] offsets, int position) {
        int i = Arrays.binarySearch(offsets, position);
        if (i >= 0) {
            // several empty tensors may share an offset: the last of them holds the position
            while (i + 1 < offsets.length && offsets[i + 1] == position) {
                i++;
            }
            return i;
        }
        return -i - 2;
    }
}
