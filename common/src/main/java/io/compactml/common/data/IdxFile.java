package io.compactml.common.data;

import io.compactml.common.Errors;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (gzipped or raw, detected from the first bytes).
 *
 * <p>Layout: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int,
 * 0x0D float, 0x0E double), a dimension count, then each dimension as a big-endian int, then the data,
 * big-endian, row-major. The first dimension counts records; a record is the product of the others (1 for
 * a labels file). Values are returned as read, unscaled. Any inconsistency, including a file shorter than
 * its header promises, is a {@link io.compactml.common.CompactMLException} naming the file.
 */
public final class IdxFile {
    private IdxFile() {}

    /** The header of an IDX file. */
    public record Header(int type, int[] dims) {
        public long records() {
            return dims[0];
        }

        /** Values per record: 784 for 28x28 images, 1 for labels. */
        public int recordLength() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) {
                n *= dims[i];
            }
            return n;
        }

        int bytesPerValue() {
            return switch (type) {
                case 0x08, 0x09 -> 1;
                case 0x0B -> 2;
                case 0x0C, 0x0D -> 4;
                case 0x0E -> 8;
                default -> throw new IllegalStateException("type " + type);
            };
        }
    }

    /** Wraps a stream, un-gzipping it when it starts with the gzip magic. */
    public static InputStream decompressing(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    /** Reads and checks the header; the stream is left at the first record. */
    public static Header readHeader(DataInputStream in, String uri) {
        try {
            int zero0 = in.readUnsignedByte();
            int zero1 = in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int ndims = in.readUnsignedByte();
            if (zero0 != 0 || zero1 != 0) {
                throw Errors.corruptIdx(uri, "bad magic number (not an IDX file)");
            }
            if (type != 0x08 && type != 0x09 && type != 0x0B && type != 0x0C && type != 0x0D && type != 0x0E) {
                throw Errors.corruptIdx(uri, String.format("unknown data type 0x%02X", type));
            }
            if (ndims < 1 || ndims > 4) {
                throw Errors.corruptIdx(uri, "dimension count " + ndims + " is not in [1, 4]");
            }
            int[] dims = new int[ndims];
            long length = 1;
            for (int i = 0; i < ndims; i++) {
                dims[i] = in.readInt();
                if (dims[i] <= 0) {
                    throw Errors.corruptIdx(uri, "dimension " + i + " is " + dims[i]);
                }
                if (i > 0) {
                    length *= dims[i];
                }
            }
            if (length > 1 << 26) {
                throw Errors.corruptIdx(uri, "record of " + length + " values is implausibly large");
            }
            return new Header(type, dims);
        } catch (EOFException e) {
            throw Errors.corruptIdx(uri, "file ends inside the header");
        } catch (java.util.zip.ZipException e) {
            throw Errors.corruptIdx(uri, "broken gzip stream: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + uri, e);
        }
    }

    /** Convenience for small files: opens, reads the header and {@code count} records from {@code start}. */
    public static float[][] read(InputStream raw, String uri, long start, int count) {
        try (Records records = open(raw, uri, start, count)) {
            float[][] out = new float[count][];
            for (int r = 0; r < count; r++) {
                out[r] = records.next();
            }
            return out;
        }
    }

    /**
     * Opens {@code raw} (gzipped or not) for reading {@code count} records from record {@code start}, one at a
     * time: memory is one record, whatever the count. Closing the records closes {@code raw}.
     */
    public static Records open(InputStream raw, String uri, long start, long count) {
        DataInputStream in;
        try {
            in = new DataInputStream(decompressing(raw));
        } catch (java.util.zip.ZipException e) {
            closeQuietly(raw);
            throw Errors.corruptIdx(uri, "broken gzip stream: " + e.getMessage());
        } catch (IOException e) {
            closeQuietly(raw);
            throw new UncheckedIOException("Reading " + uri, e);
        }
        try {
            return new Records(in, readHeader(in, uri), uri, start, count);
        } catch (RuntimeException e) {
            closeQuietly(in);
            throw e;
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing with a better message
        }
    }

    /** A run of consecutive records, read as they are asked for. */
    public static final class Records implements java.io.Closeable {
        private final DataInputStream in;
        private final Header h;
        private final String uri;
        private final long end;
        private final byte[] buf;
        private long row;

        Records(DataInputStream in, Header h, String uri, long start, long count) {
            if (start < 0 || count < 0 || start + count > h.records()) {
                throw new IllegalArgumentException(
                        "records [" + start + ", " + (start + count) + ") outside [0, " + h.records() + ")");
            }
            this.in = in;
            this.h = h;
            this.uri = uri;
            this.row = start;
            this.end = start + count;
            this.buf = h.type() <= 0x09 ? new byte[h.recordLength()] : null;
            try {
                in.skipNBytes(start * h.recordLength() * h.bytesPerValue());
            } catch (IOException e) {
                throw failure(e);
            }
        }

        public Header header() {
            return h;
        }

        public boolean hasNext() {
            return row < end;
        }

        /** The next record's {@link Header#recordLength()} values. */
        public float[] next() {
            if (row >= end) {
                throw new java.util.NoSuchElementException("record " + row + " of " + uri + " was not asked for");
            }
            int len = h.recordLength();
            float[] rec = new float[len];
            try {
                if (buf != null) {
                    in.readFully(buf);
                    boolean unsigned = h.type() == 0x08;
                    for (int i = 0; i < len; i++) {
                        rec[i] = unsigned ? (buf[i] & 0xff) : buf[i];
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        rec[i] = switch (h.type()) {
                            case 0x0B -> in.readShort();
                            case 0x0C -> in.readInt();
                            case 0x0D -> in.readFloat();
                            default -> (float) in.readDouble();
                        };
                    }
                }
            } catch (IOException e) {
                throw failure(e);
            }
            row++;
            return rec;
        }

        private RuntimeException failure(IOException e) {
            if (e instanceof EOFException) {
                return Errors.corruptIdx(
                        uri,
                        "header promises " + h.records() + " records but the file ends at record " + row
                                + " (truncated download?)");
            }
            if (e instanceof java.util.zip.ZipException) {
                return Errors.corruptIdx(uri, "broken gzip stream at record " + row + ": " + e.getMessage());
            }
            return new UncheckedIOException("Reading " + uri, e);
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException("Closing " + uri, e);
            }
        }
    }
}
