package io.compactml.common.model;

import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Reads and writes DL4J {@link MultiLayerNetwork} zips (ModelSerializer format, no updater state) on any
 * Hadoop file system. Writes go to a temporary name and are renamed into place, so a reader never sees a
 * half-written model.
 */
public final class ModelIO {
    private ModelIO() {}

    /**
     * The model zip bytes (without updater state: what serving needs), canonical: entries keep DL4J's order
     * and get a fixed timestamp, so equal networks give equal bytes and equal sha256.
     */
    public static byte[] toBytes(MultiLayerNetwork net) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try {
            ModelSerializer.writeModel(net, bos, false);
            return canonicalZip(bos.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] canonicalZip(byte[] zip) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(zip.length);
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip));
                ZipOutputStream z = new ZipOutputStream(out)) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(FIXED_ZIP_TIME);
                z.putNextEntry(copy);
                in.transferTo(z);
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** 1980-01-01T00:00:00 local time, the earliest DOS timestamp a zip entry can hold. */
    private static final long FIXED_ZIP_TIME = new java.util.GregorianCalendar(1980, 0, 1).getTimeInMillis();

    /** Restores a network from zip bytes; {@code source} names it in errors. */
    public static MultiLayerNetwork fromBytes(byte[] zip, String source) {
        try {
            return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false);
        } catch (Exception e) {
            throw Errors.corruptModel(source, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    public static byte[] readBytes(String uri, Configuration hadoop) {
        Path p = new Path(uri);
        try {
            FileSystem fs = HadoopFiles.fs(p, hadoop);
            if (!fs.exists(p)) {
                throw Errors.modelNotFound(uri, "Train one with `compactml train`, or set 'model.path'.");
            }
            return HadoopFiles.readAll(fs, p);
        } catch (IOException e) {
            throw new UncheckedIOException("Reading model " + uri, e);
        }
    }

    /** Writes {@code bytes} to {@code uri} through a temporary file and a rename. */
    public static void writeBytes(String uri, byte[] bytes, Configuration hadoop) {
        Path p = new Path(uri);
        try {
            HadoopFiles.writeAtomically(HadoopFiles.fs(p, hadoop), p, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("Writing model " + uri, e);
        }
    }

    public static String sha256(byte[] bytes) {
        return io.compactml.common.Checksums.sha256(bytes);
    }

    /** Number of parameters that are not exactly zero. */
    public static long nonzeroParams(MultiLayerNetwork net) {
        return net.params()
                .neq(0.0)
                .castTo(org.nd4j.linalg.api.buffer.DataType.LONG)
                .sumNumber()
                .longValue();
    }
}
