package io.compactml.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AugmentationTest {
    /** A 3 x 4 image, one channel: row by row 1..12. */
    private static final float[] IMAGE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

    private static Augmentation small(int channels) {
        return new Augmentation(3, 7, 1, true, 3, 4, channels);
    }

    @Test
    void shiftsMoveThePixelsAndShiftZerosIn() {
        Augmentation a = small(1);
        assertArrayEquals(
                new float[] {0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11},
                a.apply(IMAGE, new Augmentation.Transform(1, 0, false)),
                "one column right");
        assertArrayEquals(
                new float[] {5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0},
                a.apply(IMAGE, new Augmentation.Transform(0, -1, false)),
                "one row up");
        assertArrayEquals(
                new float[] {0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 5, 6},
                a.apply(IMAGE, new Augmentation.Transform(2, 1, false)),
                "two columns right, one row down");
    }

    @Test
    void aMirrorImageComesBeforeTheShift() {
        Augmentation a = small(1);
        assertArrayEquals(
                new float[] {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9},
                a.apply(IMAGE, new Augmentation.Transform(0, 0, true)));
        assertArrayEquals(
                new float[] {0, 4, 3, 2, 0, 8, 7, 6, 0, 12, 11, 10},
                a.apply(IMAGE, new Augmentation.Transform(1, 0, true)));
    }

    @Test
    void everyChannelMovesAlike() {
        Augmentation a = small(2);
        float[] two = new float[24];
        for (int i = 0; i < 12; i++) {
            two[i] = IMAGE[i];
            two[12 + i] = -IMAGE[i];
        }
        float[] out = a.apply(two, new Augmentation.Transform(-1, 0, false));
        assertArrayEquals(
                new float[] {2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0, -2, -3, -4, 0, -6, -7, -8, 0, -10, -11, -12, 0},
                out);
    }

    @Test
    void drawsDependOnTheSeedRowAndCopyOnlyAndCoverTheRange() {
        Augmentation a = new Augmentation(4, 7, 2, true, 28, 28, 1);
        assertEquals(a.transform(12345, 3), a.transform(12345, 3), "the same copy of the same row: the same draws");
        Set<Augmentation.Transform> seen = new HashSet<>();
        int mirrored = 0;
        int n = 20_000;
        for (long row = 0; row < n; row++) {
            Augmentation.Transform t = a.transform(row, 1);
            assertTrue(t.dx() >= -2 && t.dx() <= 2 && t.dy() >= -2 && t.dy() <= 2, t.toString());
            seen.add(t);
            mirrored += t.mirrored() ? 1 : 0;
        }
        assertEquals(50, seen.size(), "5 x 5 shifts, mirrored or not, all drawn");
        assertEquals(0.5, mirrored / (double) n, 0.02, "half the copies mirrored");
        int differ = 0;
        for (long row = 0; row < 1_000; row++) {
            differ += a.transform(row, 1).equals(a.transform(row, 2)) ? 0 : 1;
        }
        assertTrue(differ > 950, "copies 1 and 2 of a row are drawn apart: " + differ + " of 1,000 differ");
        Augmentation other = new Augmentation(4, 8, 2, true, 28, 28, 1);
        assertNotEquals(
                List.of(a.transform(1, 1), a.transform(2, 1), a.transform(3, 1)),
                List.of(other.transform(1, 1), other.transform(2, 1), other.transform(3, 1)),
                "another seed, other copies");
        Augmentation noFlip = new Augmentation(4, 7, 2, false, 28, 28, 1);
        for (long row = 0; row < 1_000; row++) {
            assertFalse(noFlip.transform(row, 1).mirrored());
        }
    }

    @Test
    void aMinibatchKeepsItsOriginalsAndRemakesItsCopies() {
        Augmentation a = small(1);
        float[] second = new float[12];
        for (int i = 0; i < 12; i++) {
            second[i] = 100 + i;
        }
        INDArray batch = Nd4j.create(new float[][] {IMAGE, second});
        INDArray out = a.apply(batch, new long[] {41, 42}, new int[] {0, 2});
        assertArrayEquals(IMAGE, out.getRow(0).toFloatVector(), "copy 0 is the example");
        assertArrayEquals(a.apply(second, a.transform(42, 2)), out.getRow(1).toFloatVector());
        assertArrayEquals(IMAGE, batch.getRow(0).toFloatVector(), "the input is not changed");
        assertArrayEquals(second, batch.getRow(1).toFloatVector(), "the input is not changed");
    }

    @Test
    void theStoredFormReadsBack() {
        Augmentation a = new Augmentation(3, 11, 2, true, 28, 28, 1);
        assertEquals("shift<=2 flip=true seed=11 image=28x28x1", a.describe());
        assertEquals(a, Augmentation.parse(a.describe(), 3));
        assertNull(new Augmentation(0, 11, 2, true, 28, 28, 1).describe(), "no copies, nothing stored");
        assertFalse(Augmentation.parse(null, 0).enabled());
        assertThrows(IllegalArgumentException.class, () -> Augmentation.parse("shift 2", 1));
    }

    @Test
    void theConfigNeedsImagesOfTheInputShape() {
        CompactConfig c = CompactConfig.defaults()
                .with("teacher-outputs.augment.count", 2)
                .with("teacher-outputs.augment.seed", 5);
        Augmentation a = Augmentation.from(c, 784);
        assertEquals(new Augmentation(2, 5, 2, true, 28, 28, 1), a);
        CompactMLException e = assertThrows(CompactMLException.class, () -> Augmentation.from(c, 20));
        assertEquals(2, e.exitCode());
        assertTrue(
                e.getMessage().contains("network.input-shape") && e.getMessage().contains("20 values"), e.getMessage());
        assertFalse(Augmentation.from(CompactConfig.defaults(), 20).enabled(), "no copies: any features");
        CompactMLException still = assertThrows(
                CompactMLException.class,
                () -> Augmentation.from(
                        c.with("teacher-outputs.augment.max-shift", 0).with("teacher-outputs.augment.flip", false),
                        784));
        assertTrue(still.getMessage().contains("teacher-outputs.augment.max-shift"), still.getMessage());
        assertThrows(
                CompactMLException.class,
                () -> Augmentation.from(c.with("teacher-outputs.augment.max-shift", 28), 784));
    }
}
