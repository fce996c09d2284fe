package io.compactml.common.artifact;

import io.compactml.common.Checksums;
import io.compactml.common.HadoopFiles;
import io.compactml.common.onnx.OnnxSignature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A Triton model repository ({@code <root>/<model>/config.pbtxt}, {@code <root>/<model>/<n>/model.onnx}), which
 * Triton and KServe's ONNX runtime load as it is. Triton numbers versions 1, 2, ...: publishing an ONNX model
 * takes the next number, unless a version already holds the same model (a no-op). The model file is written
 * before the configuration, each through a temporary name.
 */
public final class TritonRepository {
    /** The batch Triton's dynamic batcher may gather (the model's first dimension is the batch). */
    public static final int MAX_BATCH_SIZE = 256;

    private final Path root;
    private final Configuration hadoop;

    public TritonRepository(String root, Configuration hadoop) {
        this.root = new Path(root);
        this.hadoop = hadoop;
    }

    /**
     * Publishes {@code onnx} as a version of {@code model}; returns the version directory, qualified with its
     * file system's scheme (the same string whether the version was written now or already held the model).
     */
    public String publish(String model, byte[] onnx) {
        return publish(model, onnx, null);
    }

    /** The file of class names, one per line in output order, that Triton's classification extension reads. */
    public static final String LABELS_FILE = "labels.txt";

    /**
     * As {@link #publish(String, byte[])}, for a classifier whose output {@code i} is {@code classNames.get(i)}
     * (null: none): {@code <model>/labels.txt} holds them and the output's {@code label_filename} names it, so Triton
     * answers classification requests with the names.
     */
    public String publish(String model, byte[] onnx, List<String> classNames) {
        Path dir = new Path(root, model);
        try {
            FileSystem fs = HadoopFiles.fs(dir, hadoop);
            int next = 1;
            if (fs.exists(dir)) {
                for (FileStatus s : fs.listStatus(dir)) {
                    if (s.isDirectory() && s.getPath().getName().matches("\\d+")) {
                        int n = Integer.parseInt(s.getPath().getName());
                        Path file = new Path(s.getPath(), OnnxSignature.FILE);
                        if (fs.exists(file)
                                && Checksums.sha256(HadoopFiles.readAll(fs, file))
                                        .equals(Checksums.sha256(onnx))) {
                            return s.getPath().toString();
                        }
                        next = Math.max(next, n + 1);
                    }
                }
            }
            Path version = new Path(dir, Integer.toString(next));
            HadoopFiles.writeAtomically(fs, new Path(version, OnnxSignature.FILE), onnx);
            if (classNames != null) {
                HadoopFiles.writeAtomically(
                        fs,
                        new Path(dir, LABELS_FILE),
                        (String.join("\n", classNames) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            HadoopFiles.writeAtomically(
                    fs,
                    new Path(dir, "config.pbtxt"),
                    config(model, OnnxSignature.of(onnx), classNames != null).getBytes(StandardCharsets.UTF_8));
            return fs.makeQualified(version).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("Writing the Triton model " + dir, e);
        }
    }

    /** Triton's model configuration: ONNX Runtime, batched on the first dimension, dynamic batching on. */
    static String config(String model, OnnxSignature sig) {
        return config(model, sig, false);
    }

    /** With {@code labels}, the output names {@link #LABELS_FILE} as its {@code label_filename}. */
    static String config(String model, OnnxSignature sig, boolean labels) {
        return "name: \"" + model + "\"\n"
                + "platform: \"onnxruntime_onnx\"\n"
                + "max_batch_size: " + MAX_BATCH_SIZE + "\n"
                + "input [\n" + tensors(sig.inputs(), false) + "]\n"
                + "output [\n" + tensors(sig.outputs(), labels) + "]\n"
                + "dynamic_batching { }\n"
                + "version_policy: { latest { num_versions: 1 } }\n";
    }

    private static String tensors(List<OnnxSignature.Tensor> tensors, boolean labels) {
        return tensors.stream()
                        .map(t -> "  { name: \"" + t.name() + "\" data_type: TYPE_" + t.datatype() + " dims: [ "
                                + t.shape().subList(1, t.shape().size()).stream()
                                        .map(String::valueOf)
                                        .collect(Collectors.joining(", "))
                                + " ]" + (labels ? " label_filename: \"" + LABELS_FILE + "\"" : "") + " }")
                        .collect(Collectors.joining(",\n"))
                + "\n";
    }
}
