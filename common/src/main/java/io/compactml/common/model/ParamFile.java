package io.compactml.common.model;

import io.compactml.common.Errors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The framing CompactML's own model formats share ({@code model.int8}, {@code model.sparse}): a deflated stream
 * of a magic number, a version, the DL4J configuration JSON, the parameter count, then per parameter a
 * {@link Header} (layer index, parameter name, kind, shape) followed by the format's own encoding of the
 * values, and optionally a trailer section. Each format supplies only the value encoding and the trailer.
 */
public final class ParamFile {
    private ParamFile() {}

    /** What precedes every parameter's values: its layer, DL4J name ("W", "b"), the format's kind, its shape. */
    public record Header(int layer, String name, byte kind, long[] shape) {
        /** Number of values: the product of the shape. */
        public int length() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return Math.toIntExact(n);
        }
    }

    /** Writes one parameter's values. */
    @FunctionalInterface
    public interface ValueWriter<P> {
        void write(DataOutputStream out, P param) throws IOException;
    }

    /** Reads one parameter's values after its header. */
    @FunctionalInterface
    public interface ValueReader<P> {
        P read(DataInputStream in, Header header) throws IOException;
    }

    /** Writes the section after the parameters. */
    @FunctionalInterface
    public interface SectionWriter {
        void write(DataOutputStream out) throws IOException;
    }

    /** Reads the section after the parameters. */
    @FunctionalInterface
    public interface SectionReader<T> {
        T read(DataInputStream in) throws IOException;
    }

    /** A file's contents: the configuration, the parameters as the format decoded them, the trailer. */
    public record Contents<P, T>(String configJson, List<P> params, T trailer) {}

    /** A freshly initialised network of a DL4J configuration, its parameters to be set from a file. */
    public static MultiLayerNetwork emptyNetwork(String configJson) {
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson));
        net.init();
        return net;
    }

    /** The file's bytes, deflated at {@code level}; {@code trailer} (may be null) writes a last section. */
    public static <P> byte[] write(
            int magic,
            int version,
            int level,
            String configJson,
            List<P> params,
            Function<P, Header> header,
            ValueWriter<P> values,
            SectionWriter trailer) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(level);
        try (DataOutputStream out = new DataOutputStream(new DeflaterOutputStream(bos, deflater))) {
            out.writeInt(magic);
            out.writeInt(version);
            byte[] json = configJson.getBytes(StandardCharsets.UTF_8);
            out.writeInt(json.length);
            out.write(json);
            out.writeInt(params.size());
            for (P p : params) {
                Header h = header.apply(p);
                out.writeInt(h.layer());
                out.writeUTF(h.name());
                out.writeByte(h.kind());
                out.writeInt(h.shape().length);
                for (long d : h.shape()) {
                    out.writeLong(d);
                }
                values.write(out, p);
            }
            if (trailer != null) {
                trailer.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deflater.end();
        }
        return bos.toByteArray();
    }

    /**
     * Reads a file written by {@link #write}. Anything unreadable (bad magic or version, truncation, values
     * the format rejects) fails as a runtime error naming {@code what} and {@code source}, with {@code remedy}.
     */
    public static <P, T> Contents<P, T> read(
            byte[] bytes,
            int magic,
            int version,
            ValueReader<P> values,
            SectionReader<T> trailer,
            String what,
            String source,
            String remedy) {
        try (DataInputStream in = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(bytes)))) {
            if (in.readInt() != magic || in.readInt() != version) {
                throw new IOException("not a CompactML " + what + " (bad magic or version)");
            }
            byte[] json = new byte[in.readInt()];
            in.readFully(json);
            int n = in.readInt();
            List<P> params = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                int layer = in.readInt();
                String name = in.readUTF();
                byte kind = in.readByte();
                long[] shape = new long[in.readInt()];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                }
                params.add(values.read(in, new Header(layer, name, kind, shape)));
            }
            T tail = trailer == null ? null : trailer.read(in);
            return new Contents<>(new String(json, StandardCharsets.UTF_8), params, tail);
        } catch (IOException | RuntimeException e) {
            throw Errors.unreadableModelFile(what, source, e.getMessage(), remedy, e);
        }
    }

    /** A count, then the floats. */
    public static void writeFloats(DataOutputStream out, float[] values) throws IOException {
        out.writeInt(values.length);
        for (float v : values) {
            out.writeFloat(v);
        }
    }

    /** What {@link #writeFloats} wrote. */
    public static float[] readFloats(DataInputStream in) throws IOException {
        float[] v = new float[in.readInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }

    /** A count, then the bytes. */
    public static void writeBytes(DataOutputStream out, byte[] values) throws IOException {
        out.writeInt(values.length);
        out.write(values);
    }

    /** What {@link #writeBytes} wrote. */
    public static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] v = new byte[in.readInt()];
        in.readFully(v);
        return v;
    }
}
