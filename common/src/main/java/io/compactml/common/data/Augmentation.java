package io.compactml.common.data;

import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Augmented copies of image examples for a transfer set ({@code teacher-outputs.augment.*}): copy {@code c} of the
 * example with row id {@code r} is the image shifted by {@code (dx, dy)} pixels, each drawn uniformly from
 * {@code [-maxShift, maxShift]}, and, with {@code flip}, mirrored left to right with probability 1/2 (the mirror
 * first, then the shift); pixels shifted in are 0, the data's own zero before any scaling the network stores. The
 * draws depend on {@code (seed, r, c)} only, never on partitioning or order, so that {@code distill} regenerates
 * exactly the images {@code teacher-outputs} labelled and only the teacher's outputs are stored. Shifts of up to two
 * pixels are the jitter Hinton et al. 2015 ("Distilling the Knowledge in a Neural Network") trained their MNIST
 * teacher with. Copy 0 is the example as it is.
 *
 * <p>A feature vector is an image flattened as DL4J's {@code InputType.convolutionalFlat} takes it: channels, then
 * rows, then columns ({@code [C, H, W]} in C order; for one channel, row by row).
 *
 * @param count    augmented copies per example (0 = none)
 * @param seed     seed of the draws
 * @param maxShift largest shift in pixels, each direction and axis
 * @param flip     whether copies may be mirrored left to right
 * @param height   image rows H
 * @param width    image columns W
 * @param channels image channels C
 */
public record Augmentation(int count, long seed, int maxShift, boolean flip, int height, int width, int channels)
        implements Serializable {

    /** The table form: {@link #describe()} writes it, {@link #parse} reads it. */
    private static final String FORMAT = "shift<=%d flip=%b seed=%d image=%dx%dx%d";

    private static final Pattern DESCRIBED =
            Pattern.compile("shift<=(\\d+) flip=(true|false) seed=(-?\\d+) image=(\\d+)x(\\d+)x(\\d+)");

    /**
     * Reads {@code teacher-outputs.augment.*} for feature vectors of {@code inputs} values, the image shape from
     * {@code network.input-shape} (height, width, channels).
     *
     * @throws io.compactml.common.CompactMLException (usage) when copies are asked for and the features are not images
     *     of that shape, or the largest shift is not smaller than the image
     */
    public static Augmentation from(CompactConfig c, int inputs) {
        List<Integer> shape = c.getIntList("network.input-shape");
        Augmentation a = new Augmentation(
                c.getInt("teacher-outputs.augment.count"),
                c.getInt("teacher-outputs.augment.seed"),
                c.getInt("teacher-outputs.augment.max-shift"),
                c.getBoolean("teacher-outputs.augment.flip"),
                shape.get(0),
                shape.get(1),
                shape.size() > 2 ? shape.get(2) : 1);
        if (a.count == 0) {
            return a;
        }
        if ((long) a.height * a.width * a.channels != inputs) {
            throw Errors.badConfigValue(
                    "network.input-shape",
                    shape,
                    "the height, width and channels of the images that teacher-outputs.augment copies; data.train's"
                            + " features have " + inputs + " values (set teacher-outputs.augment.count = 0 for data"
                            + " that is not images)");
        }
        if (a.maxShift == 0 && !a.flip) {
            throw Errors.badConfigValue(
                    "teacher-outputs.augment.max-shift",
                    0,
                    "a shift of at least 1 pixel, or teacher-outputs.augment.flip = true: copies with neither are the"
                            + " example itself");
        }
        if (a.maxShift >= Math.min(a.height, a.width)) {
            throw Errors.badConfigValue(
                    "teacher-outputs.augment.max-shift",
                    a.maxShift,
                    "a shift smaller than the " + a.height + "x" + a.width + " image");
        }
        return a;
    }

    /** Whether there are copies at all. */
    public boolean enabled() {
        return count > 0;
    }

    /** The settings that make the copies, as {@code teacher_outputs} stores them (null without copies). */
    public String describe() {
        return enabled() ? String.format(Locale.ROOT, FORMAT, maxShift, flip, seed, height, width, channels) : null;
    }

    /**
     * The settings {@link #describe()} wrote, with {@code count} copies; null or empty reads as no augmentation.
     *
     * @throws IllegalArgumentException for any other text
     */
    public static Augmentation parse(String described, int count) {
        if (described == null || described.isEmpty()) {
            return new Augmentation(0, 0, 0, false, 1, 1, 1);
        }
        Matcher m = DESCRIBED.matcher(described);
        if (!m.matches()) {
            throw new IllegalArgumentException("not an augmentation: '" + described + "'");
        }
        return new Augmentation(
                count,
                Long.parseLong(m.group(3)),
                Integer.parseInt(m.group(1)),
                Boolean.parseBoolean(m.group(2)),
                Integer.parseInt(m.group(4)),
                Integer.parseInt(m.group(5)),
                Integer.parseInt(m.group(6)));
    }

    /** How copy {@code copy} of row {@code rowId} is made: its shift and whether it is mirrored. */
    public record Transform(int dx, int dy, boolean mirrored) {}

    /** The draws of copy {@code copy} (1 to {@link #count}) of the example with row id {@code rowId}. */
    public Transform transform(long rowId, int copy) {
        // SplittableRandom's seeding mixes the bits (SplitMix64), so that neighbouring ids draw unrelated values
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + rowId * 0xBF58476D1CE4E5B9L + copy);
        int dx = r.nextInt(-maxShift, maxShift + 1);
        int dy = r.nextInt(-maxShift, maxShift + 1);
        boolean mirrored = flip && r.nextBoolean();
        return new Transform(dx, dy, mirrored);
    }

    /**
     * {@code image} ([C, H, W] flattened) mirrored when {@code t.mirrored()} and then moved {@code t.dx()} columns
     * right and {@code t.dy()} rows down, zeros shifted in.
     */
    public float[] apply(float[] image, Transform t) {
        float[] out = new float[image.length];
        int plane = height * width;
        for (int ch = 0; ch < channels; ch++) {
            for (int y = 0; y < height; y++) {
                int sy = y - t.dy();
                if (sy < 0 || sy >= height) {
                    continue;
                }
                for (int x = 0; x < width; x++) {
                    int sx = x - t.dx();
                    if (sx < 0 || sx >= width) {
                        continue;
                    }
                    int from = t.mirrored() ? width - 1 - sx : sx;
                    out[ch * plane + y * width + x] = image[ch * plane + sy * width + from];
                }
            }
        }
        return out;
    }

    /**
     * A minibatch's features [n, C*H*W] with row {@code i} replaced by copy {@code copies[i]} of example
     * {@code rowIds[i]} (rows of copy 0 unchanged); a new array, {@code features} is not changed.
     */
    public INDArray apply(INDArray features, long[] rowIds, int[] copies) {
        int n = (int) features.size(0);
        int w = (int) features.size(1);
        float[] flat = features.dup('c').data().asFloat();
        float[] row = new float[w];
        for (int i = 0; i < n; i++) {
            if (copies[i] == 0) {
                continue;
            }
            System.arraycopy(flat, i * w, row, 0, w);
            System.arraycopy(apply(row, transform(rowIds[i], copies[i])), 0, flat, i * w, w);
        }
        return Nd4j.create(flat, new long[] {n, w}, 'c').castTo(features.dataType());
    }
}
