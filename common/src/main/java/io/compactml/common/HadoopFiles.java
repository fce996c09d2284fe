package io.compactml.common;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/** Small file operations on any Hadoop file system, shared by model and artifact IO. */
public final class HadoopFiles {
    private HadoopFiles() {}

    /**
     * The file system of {@code p}; for local paths the raw one, without {@code .crc} side files: CompactML
     * checks content with its own sha256, and side files would clutter artifacts that other tools read.
     */
    public static FileSystem fs(Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
    }

    /**
     * A Hadoop configuration outside Spark with the {@code spark.hadoop.*} entries of a config's {@code spark.conf}
     * (prefix removed), as Spark gives them to its own jobs: one place for S3A endpoints and credential providers.
     */
    public static Configuration configuration(java.util.Map<String, String> sparkConf) {
        Configuration conf = new Configuration();
        sparkConf.forEach((k, v) -> {
            if (k.startsWith("spark.hadoop.")) {
                conf.set(k.substring("spark.hadoop.".length()), v);
            }
        });
        return conf;
    }

    public static byte[] readAll(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    public static void write(FileSystem fs, Path p, byte[] bytes) throws IOException {
        try (OutputStream out = fs.create(p, true)) {
            out.write(bytes);
        }
    }

    /**
     * Writes through a temporary sibling and a rename, so readers see the old content or the new, never part
     * of it (on object stores the rename is a copy, and the PUT is already atomic).
     */
    public static void writeAtomically(FileSystem fs, Path p, byte[] bytes) throws IOException {
        Path tmp = new Path(p.getParent(), "." + p.getName() + ".tmp-" + System.nanoTime());
        fs.mkdirs(p.getParent());
        write(fs, tmp, bytes);
        fs.delete(p, false);
        if (!fs.rename(tmp, p)) {
            fs.delete(tmp, false);
            throw new IOException("rename " + tmp + " -> " + p + " failed");
        }
    }
}
