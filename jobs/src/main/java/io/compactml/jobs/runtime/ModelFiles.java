package io.compactml.jobs.runtime;

import io.compactml.common.Errors;
import io.compactml.common.HadoopFiles;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxImport;
import io.compactml.common.onnx.OnnxSignature;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * The files of a model CompactML makes: its own format's file and, next to it, {@code model.onnx}, the same model
 * as ONNX (int8 as QDQ), what serving runtimes run. Both are written through a temporary name and a rename.
 */
public final class ModelFiles {
    private ModelFiles() {}

    /** Writes {@code bytes} of {@code format} to {@code uri} and its ONNX form beside it; returns the ONNX bytes. */
    public static byte[] write(String uri, ModelFormat format, byte[] bytes, Configuration hadoop) {
        byte[] onnx = format.toOnnx(bytes, uri);
        ModelIO.writeBytes(uri, bytes, hadoop);
        ModelIO.writeBytes(onnxUri(uri), onnx, hadoop);
        return onnx;
    }

    /** The {@code model.onnx} beside the model file {@code uri}. */
    public static String onnxUri(String uri) {
        return new Path(new Path(uri).getParent(), OnnxSignature.FILE).toString();
    }

    /**
     * The ONNX form of the model file {@code uri} of {@code format}: the {@code model.onnx} beside it, or, for a
     * file CompactML did not write (a model of {@code model.path}), its export.
     */
    public static byte[] onnx(String uri, ModelFormat format, byte[] bytes, Configuration hadoop) {
        Path p = new Path(onnxUri(uri));
        try {
            if (HadoopFiles.fs(p, hadoop).exists(p)) {
                return ModelIO.readBytes(p.toString(), hadoop);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Checking " + p, e);
        }
        return format.toOnnx(bytes, uri);
    }

    /**
     * The model at {@code uri} as a DL4J zip: the file itself, or for an {@code .onnx} file (a model trained
     * elsewhere, exported by {@code torch.onnx.export} or {@code tf2onnx}) the network it describes.
     *
     * @throws io.compactml.common.CompactMLException (usage) for an ONNX graph CompactML cannot read
     */
    public static byte[] readModel(String uri, Configuration hadoop) {
        byte[] bytes = ModelIO.readBytes(uri, hadoop);
        if (!uri.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx")) {
            return bytes;
        }
        if (bytes.length == 0) {
            throw Errors.unreadableOnnx(uri, "the file is empty");
        }
        return ModelIO.toBytes(OnnxImport.toNetwork(bytes, uri));
    }
}
