package io.compactml.common.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class FloatHistogramTest {

    @Test
    void countsFiniteValuesAndKeepsNanAndInfinityOutOfTheRange() {
        FloatHistogram h = new FloatHistogram();
        h.add(new float[] {1.5f, Float.NaN, -2f, Float.POSITIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 3f});
        assertEquals(4, h.count());
        assertEquals(1, h.nanCount());
        assertEquals(2, h.infCount());
        assertEquals(-2f, h.min());
        assertEquals(3f, h.max());
        // the three values <= 0 of four: the 0.75 quantile is 1.5's bucket edge, exactly 1.5
        assertEquals(1.5f, h.quantile(0.75));
        // a later batch of finite values alone leaves the special counters and buckets as they were
        h.add(new float[] {-7f});
        assertEquals(-7f, h.min());
        assertEquals(5, h.count());
        assertEquals(1, h.nanCount());
        assertEquals(2, h.infCount());
        assertEquals(5, sum(h.uniform(4, -7f, 3f)));
    }

    @Test
    void onlyNonFiniteValuesLeaveTheRangeEmpty() {
        FloatHistogram h = new FloatHistogram();
        h.add(new float[] {Float.NaN, Float.NaN});
        assertEquals(0, h.count());
        assertEquals(2, h.nanCount());
        assertEquals(Float.POSITIVE_INFINITY, h.min());
        assertEquals(Float.NEGATIVE_INFINITY, h.max());
    }

    @Test
    void signedZerosAreZerosAndMinIsDeterministic() {
        FloatHistogram a = new FloatHistogram();
        a.add(new float[] {0f, -0f, 0f});
        FloatHistogram b = new FloatHistogram();
        b.add(new float[] {-0f, 0f, 0f});
        for (FloatHistogram h : new FloatHistogram[] {a, b}) {
            assertEquals(3, h.count());
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(h.min()));
            assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(h.max()));
            // zeros carry no information about a clip range: left out of the |x| histogram
            assertEquals(0.0, sumOf(h.uniformAbs(8, 1f)));
        }
    }

    @Test
    void sameValuesInAnyOrderAndSplitGiveIdenticalState() throws Exception {
        float[] v = {0.25f, -1e-3f, 7f, 0f, 3.5e-20f, -9f, 0.25f, 1e30f, -0f};
        FloatHistogram whole = new FloatHistogram();
        whole.add(v);
        FloatHistogram left = new FloatHistogram();
        left.add(new float[] {-0f, 1e30f, 0.25f, -9f});
        FloatHistogram right = new FloatHistogram();
        right.add(new float[] {3.5e-20f, 0f, 7f, -1e-3f, 0.25f});
        FloatHistogram merged = right.merge(left);
        assertArrayEquals(bytes(whole), bytes(merged));
        assertEquals(-9f, merged.min());
        assertEquals(1e30f, merged.max());
    }

    @Test
    void aDirectBufferReadInPlaceCountsLikeAnArray() throws Exception {
        float[] v = {0.5f, -0.5f, 2f, Float.NaN, 0f};
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * v.length)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        direct.put(v);
        FloatHistogram a = new FloatHistogram();
        a.add(v);
        FloatHistogram b = new FloatHistogram();
        b.add(direct, 0, v.length);
        assertArrayEquals(bytes(a), bytes(b));
    }

    @Test
    void anNdArrayIsReadInPlaceAndAViewThroughACopy() throws Exception {
        org.nd4j.linalg.api.ndarray.INDArray x =
                org.nd4j.linalg.factory.Nd4j.create(new float[] {1f, -2f, 0f, 4f, 5f, -6f}, new long[] {2, 3}, 'c');
        FloatHistogram whole = new FloatHistogram();
        whole.add(FakeQuant.values(x), 0, 6);
        FloatHistogram expected = new FloatHistogram();
        expected.add(new float[] {1f, -2f, 0f, 4f, 5f, -6f});
        assertArrayEquals(bytes(expected), bytes(whole));

        org.nd4j.linalg.api.ndarray.INDArray row = x.getRow(1);
        FloatHistogram view = new FloatHistogram();
        view.add(FakeQuant.values(row), 0, 3);
        FloatHistogram expectedRow = new FloatHistogram();
        expectedRow.add(new float[] {4f, 5f, -6f});
        assertArrayEquals(bytes(expectedRow), bytes(view));
    }

    private static long sum(long[] a) {
        long s = 0;
        for (long x : a) {
            s += x;
        }
        return s;
    }

    private static double sumOf(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x;
        }
        return s;
    }

    /** The serialized form: every counter, count, min, max, NaN and infinity counts. */
    private static byte[] bytes(FloatHistogram h) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bos)) {
            out.writeObject(h);
        }
        byte[] b = bos.toByteArray();
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
            assertEquals(h.count(), ((FloatHistogram) in.readObject()).count());
        }
        return b;
    }
}
