package io.compactml.common.quant;

import java.io.Serializable;
import java.nio.FloatBuffer;

/**
 * Exactly mergeable statistics of a stream of floats: count, min, max, NaN and infinity counts, and a histogram
 * whose buckets do not depend on the data.
 *
 * <p>A bucket is the float's sign, exponent and top {@value #MANTISSA_BITS} mantissa bits, so every bucket
 * spans a relative width of at most 2^-11 (0.05 %). Since the bucket of a value is fixed in advance, merging
 * is adding counts: the same values in any partitioning and any order give bit-identical statistics, and
 * everything computed from them (clip ranges, scales) is bit-identical too. One pass over the data suffices.
 * The uniform histograms the calibration methods need are derived from the buckets ({@link #uniformAbs});
 * with 11 mantissa bits a bucket in the top octave is never wider than one of 2048 uniform bins over
 * [0, max |x|]. +0 has bucket 0 and -0 bucket 2^19 (each shared with the subnormals of its sign below
 * 2^-137); both read as zero.
 *
 * <p>Memory: 2^20 long counters (8 MiB) per tensor, independent of the data size.
 */
public final class FloatHistogram implements Serializable {
    static final int MANTISSA_BITS = 11;
    private static final int SHIFT = 23 - MANTISSA_BITS;
    private static final int BUCKETS = 1 << (32 - SHIFT);

    // first bucket of the positive floats with exponent 255 (infinity, NaN); + BUCKETS / 2 for the negative ones
    private static final int NON_FINITE = 0x7f800000 >>> SHIFT;

    private transient long[] counts = new long[BUCKETS];
    private long count;
    private long nan;
    private long inf;
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;

    // Java/Kryo-Java serialization: only the nonzero buckets (a few thousand of 2^20), as (index, count) pairs
    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        out.defaultWriteObject();
        int nonzero = 0;
        for (long c : counts) {
            if (c != 0) {
                nonzero++;
            }
        }
        out.writeInt(nonzero);
        for (int i = 0; i < BUCKETS; i++) {
            if (counts[i] != 0) {
                out.writeInt(i);
                out.writeLong(counts[i]);
            }
        }
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
        in.defaultReadObject();
        counts = new long[BUCKETS];
        int nonzero = in.readInt();
        for (int k = 0; k < nonzero; k++) {
            counts[in.readInt()] = in.readLong();
        }
    }

    /** Adds finite values to the histogram; NaN and infinities are only counted. */
    public void add(float[] values, int from, int to) {
        add(FloatBuffer.wrap(values), from, to);
    }

    public void add(float[] values) {
        add(values, 0, values.length);
    }

    /**
     * Adds the values at positions [from, to) of a buffer (heap or direct, e.g. an ND4J array's memory read in
     * place); NaN and infinities are only counted.
     *
     * <p>The loop has no data-dependent branch (after a ReLU half the values are zero, at random, and a branch
     * on that mispredicts half the time): every value's raw bits index its bucket, and min and max are kept
     * as order-preserving integer keys with branch-free {@code Math.min/max}. NaN and infinities land in the
     * buckets of exponent 255, which no finite value shares; when any did, the range is read again to move
     * them to their counters and to take them out of min and max.
     */
    public void add(FloatBuffer values, int from, int to) {
        long[] c = counts;
        int lo = count == 0 ? Integer.MAX_VALUE : key(Float.floatToRawIntBits(min));
        int hi = count == 0 ? Integer.MIN_VALUE : key(Float.floatToRawIntBits(max));
        for (int i = from; i < to; i++) {
            int bits = Float.floatToRawIntBits(values.get(i));
            c[bits >>> SHIFT]++;
            int k = key(bits);
            lo = Math.min(lo, k);
            hi = Math.max(hi, k);
        }
        long nonFinite = 0;
        for (int b = NON_FINITE; b < BUCKETS / 2; b++) {
            nonFinite += c[b] + c[b + BUCKETS / 2];
        }
        if (nonFinite > 0) {
            lo = count == 0 ? Integer.MAX_VALUE : key(Float.floatToRawIntBits(min));
            hi = count == 0 ? Integer.MIN_VALUE : key(Float.floatToRawIntBits(max));
            for (int i = from; i < to; i++) {
                float v = values.get(i);
                int bits = Float.floatToRawIntBits(v);
                if (Float.isFinite(v)) {
                    lo = Math.min(lo, key(bits));
                    hi = Math.max(hi, key(bits));
                } else {
                    c[bits >>> SHIFT]--;
                    if (Float.isNaN(v)) {
                        nan++;
                    } else {
                        inf++;
                    }
                }
            }
        }
        long finite = to - from - nonFinite;
        if (finite > 0) {
            min = Float.intBitsToFloat(key(lo));
            max = Float.intBitsToFloat(key(hi));
            count += finite;
        }
    }

    /**
     * The float bits as an int whose signed order is the floats' order (-0 just below +0); its own inverse.
     */
    private static int key(int bits) {
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** This histogram plus another, into this one. */
    public FloatHistogram merge(FloatHistogram o) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += o.counts[i];
        }
        count += o.count;
        nan += o.nan;
        inf += o.inf;
        min = Math.min(min, o.min);
        max = Math.max(max, o.max);
        return this;
    }

    /** Finite values seen. */
    public long count() {
        return count;
    }

    public long nanCount() {
        return nan;
    }

    public long infCount() {
        return inf;
    }

    /** Smallest finite value (+Infinity when none). */
    public float min() {
        return min;
    }

    /** Largest finite value (-Infinity when none). */
    public float max() {
        return max;
    }

    public float maxAbs() {
        return count == 0 ? 0f : Math.max(Math.abs(min), Math.abs(max));
    }

    /** The lower edge of the bucket holding {@code v} (its upper edge for negative values): 0.05 % below at most. */
    public static float bucketEdge(float v) {
        return lowerEdge(Float.floatToRawIntBits(v) >>> SHIFT) + 0f;
    }

    private static float lowerEdge(int bucket) {
        return Float.intBitsToFloat(bucket << SHIFT);
    }

    /**
     * Counts of |x| in {@code bins} equal bins over [0, limit]; a bucket goes to the bin of its lower edge,
     * values above {@code limit} to the last bin. Exact zeros (with the subnormal floats sharing their bucket,
     * |x| < 2^-126) are left out: int8 represents zero exactly whatever the clip range, so they carry no
     * information about it, and after a ReLU their spike would dominate the clip search.
     */
    public double[] uniformAbs(int bins, float limit) {
        double[] h = new double[bins];
        if (count == 0 || limit <= 0) {
            return h;
        }
        double width = limit / (double) bins;
        for (int b = 0; b < BUCKETS; b++) {
            long c = counts[b];
            if (c == 0 || b == 0 || b == BUCKETS / 2) {
                continue;
            }
            double edge = Math.abs(lowerEdge(b));
            int bin = (int) Math.min(bins - 1, Math.floor(edge / width));
            h[bin] += c;
        }
        return h;
    }

    /**
     * Counts in {@code bins} equal bins over [lo, hi] of the signed values (for the stored histogram and the
     * percentile method); a bucket goes to the bin of its lower edge (its upper edge for negative values).
     */
    public long[] uniform(int bins, float lo, float hi) {
        long[] h = new long[bins];
        if (count == 0 || !(hi > lo)) {
            if (count > 0) {
                h[0] = count;
            }
            return h;
        }
        double width = ((double) hi - lo) / bins;
        for (int b = 0; b < BUCKETS; b++) {
            long c = counts[b];
            if (c == 0) {
                continue;
            }
            double edge = lowerEdge(b);
            int bin = (int) Math.max(0, Math.min(bins - 1, Math.floor((edge - lo) / width)));
            h[bin] += c;
        }
        return h;
    }

    /**
     * Counts of the finite values in the {@code edges.length + 1} bins the ascending {@code edges} make: (-inf,
     * e0), [e0, e1), ..., [e_last, +inf). A bucket goes to the bin of its lower edge (its upper edge for negative
     * values), as in {@link #uniform}: at bucket resolution, 0.05 % of a value. For drift statistics, where
     * another data set's bins are laid over these statistics.
     */
    public long[] counts(float[] edges) {
        long[] h = new long[edges.length + 1];
        for (int b = 0; b < BUCKETS; b++) {
            long c = counts[b];
            if (c == 0) {
                continue;
            }
            float edge = lowerEdge(b) + 0f; // -0 reads as 0
            int bin = java.util.Arrays.binarySearch(edges, edge);
            // found: the bin starting at that edge; not found: -(insertion point) - 1, the bin left of it
            h[bin >= 0 ? bin + 1 : -bin - 1] += c;
        }
        return h;
    }

    /**
     * The share (0..1) of the finite values inside [lo, hi], at bucket resolution as {@link #counts}. 1 for an
     * empty histogram.
     */
    public double share(float lo, float hi) {
        if (count == 0) {
            return 1.0;
        }
        long[] c = counts(new float[] {bucketEdge(lo), Math.nextUp(hi)});
        return c[1] / (double) count;
    }

    /**
     * The share (0..1) of the finite values that int8 with parameters {@code q} does not saturate: those in
     * [clipMin - scale/2, clipMax + scale/2], which round to a level inside [qmin, qmax] even unclipped.
     */
    public double unsaturated(QuantParams q) {
        return share(q.clipMin() - q.scale() / 2, q.clipMax() + q.scale() / 2);
    }

    /**
     * The value below which a fraction {@code q} of the finite values lie, at bucket resolution (the lower
     * edge of the bucket holding that rank, clamped to [min, max]).
     */
    public float quantile(double q) {
        if (count == 0) {
            return 0f;
        }
        long rank = (long) Math.ceil(q * count);
        long seen = 0;
        // negative floats: larger bits are smaller values, so walk negative buckets from the top down
        for (int b = BUCKETS - 1; b >= BUCKETS / 2; b--) {
            seen += counts[b];
            if (seen >= rank && counts[b] > 0) {
                return Math.max(min, lowerEdge(b));
            }
        }
        for (int b = 0; b < BUCKETS / 2; b++) {
            seen += counts[b];
            if (seen >= rank && counts[b] > 0) {
                return Math.min(max, Math.max(min, lowerEdge(b)));
            }
        }
        return max;
    }
}
