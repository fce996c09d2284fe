package io.compactml.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class IdxFileTest {

    /** Three 2x2 unsigned-byte images: 0..3, 4..7, 252..255 (values above 127 test the unsigned read). */
    static byte[] images() {
        return new byte[] {
            0,
            0,
            0x08,
            3,
            0,
            0,
            0,
            3,
            0,
            0,
            0,
            2,
            0,
            0,
            0,
            2,
            0,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            (byte) 252,
            (byte) 253,
            (byte) 254,
            (byte) 255
        };
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    @Test
    void readsRawAndGzippedAlike() throws Exception {
        float[][] expected = {{0, 1, 2, 3}, {4, 5, 6, 7}, {252, 253, 254, 255}};
        assertArrayEquals(expected, IdxFile.read(new ByteArrayInputStream(images()), "raw", 0, 3));
        assertArrayEquals(expected, IdxFile.read(new ByteArrayInputStream(gzip(images())), "gz", 0, 3));
    }

    @Test
    void readsASliceFromTheMiddle() throws Exception {
        float[][] slice = IdxFile.read(new ByteArrayInputStream(gzip(images())), "gz", 1, 2);
        assertArrayEquals(new float[][] {{4, 5, 6, 7}, {252, 253, 254, 255}}, slice);
    }

    @Test
    void streamsRecordsOneAtATimeAndRefusesToReadPastTheSlice() throws Exception {
        try (IdxFile.Records r = IdxFile.open(new ByteArrayInputStream(gzip(images())), "gz", 1, 1)) {
            assertEquals(3, r.header().records());
            assertTrue(r.hasNext());
            assertArrayEquals(new float[] {4, 5, 6, 7}, r.next());
            assertFalse(r.hasNext());
            assertThrows(java.util.NoSuchElementException.class, r::next);
        }
        assertThrows(
                IllegalArgumentException.class, () -> IdxFile.open(new ByteArrayInputStream(images()), "raw", 2, 2));
    }

    @Test
    void readsALabelsFileAsRecordsOfOne() {
        byte[] labels = {0, 0, 0x08, 1, 0, 0, 0, 3, 9, 0, 4};
        float[][] y = IdxFile.read(new ByteArrayInputStream(labels), "labels", 0, 3);
        assertArrayEquals(new float[][] {{9}, {0}, {4}}, y);
    }

    @Test
    void truncatedFileIsCorruptNamingTheRecord() {
        byte[] cut = Arrays.copyOf(images(), images().length - 3);
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> IdxFile.read(new ByteArrayInputStream(cut), "cut.idx", 0, 3));
        assertEquals(1, e.exitCode());
        assertTrue(e.getMessage().contains("cut.idx") && e.getMessage().contains("ends at record 2"), e.getMessage());
    }

    @Test
    void badMagicAndBadTypeAreCorrupt() {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0};
        String m1 = assertThrows(
                        CompactMLException.class, () -> IdxFile.read(new ByteArrayInputStream(png), "x.png", 0, 0))
                .getMessage();
        assertTrue(m1.contains("bad magic"), m1);
        byte[] badType = images().clone();
        badType[2] = 0x42;
        String m2 = assertThrows(
                        CompactMLException.class, () -> IdxFile.read(new ByteArrayInputStream(badType), "t.idx", 0, 1))
                .getMessage();
        assertTrue(m2.contains("unknown data type 0x42"), m2);
    }

    @Test
    void brokenGzipIsCorrupt() throws Exception {
        byte[] gz = gzip(images());
        byte[] broken = Arrays.copyOf(gz, gz.length);
        for (int i = 12; i < broken.length - 8; i++) {
            broken[i] = (byte) 0xff;
        }
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> IdxFile.read(new ByteArrayInputStream(broken), "b.gz", 0, 3));
        assertTrue(e.getMessage().startsWith("Corrupt IDX file b.gz"), e.getMessage());
    }
}
