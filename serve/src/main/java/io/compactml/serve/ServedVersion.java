package io.compactml.serve;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.common.onnx.OnnxSignature;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One verified version of a published model, loaded in ONNX Runtime: its manifest, its graph's signature (one
 * FP32 input [batch, features], one FP32 output [batch, outputs]) and the session that runs it.
 *
 * <p>Reference counted: the slot that serves it holds one reference, every batch in flight another; the session
 * closes when the last is released, so a swap never closes a session a request still runs on.
 */
final class ServedVersion {
    final String model;
    final String version;
    final Manifest manifest;
    final OnnxSignature.Tensor input;
    final OnnxSignature.Tensor output;
    final int features;
    final int outputs;
    /** Output {@code i}'s class name (null: the outputs are class indices, or regression). */
    final List<String> classNames;

    private final OnnxSession session;
    private final AtomicInteger refs = new AtomicInteger(1);

    private ServedVersion(String model, String version, Manifest manifest, OnnxSession session) {
        this.model = model;
        this.version = version;
        this.manifest = manifest;
        this.session = session;
        this.input = manifest.onnx().inputs().get(0);
        this.output = manifest.onnx().outputs().get(0);
        this.features = Math.toIntExact(input.shape().get(1));
        this.outputs = Math.toIntExact(output.shape().get(1));
        this.classNames = manifest.classNames();
    }

    /** The name of the output that gives each row's most probable class by name, for a model with class names. */
    static final String LABEL = "label";

    /** The outputs a request may name: the graph's, and {@link #LABEL} for a model with class names. */
    List<String> outputNames() {
        return classNames == null ? List.of(output.name()) : List.of(output.name(), LABEL);
    }

    /**
     * Reads {@code <root>/<model>/<version>/}, checks every file's size and sha256 against the manifest, checks
     * that {@code model.onnx}'s graph is the one the manifest describes, loads it and runs it once on zeros.
     *
     * @throws io.compactml.common.CompactMLException (runtime) naming the artifact and what is wrong with it:
     *     missing or tampered files, no model.onnx, a graph other than one FP32 [batch, n] input and output, a
     *     model ONNX Runtime refuses or one that gives non-finite outputs
     */
    static ServedVersion load(ArtifactStore store, String model, String version, int threads) {
        String dir = store.dir(model, version);
        Manifest manifest = store.verify(model, version);
        boolean hasOnnx = manifest.files().stream().anyMatch(f -> f.path().equals(OnnxSignature.FILE));
        if (manifest.onnx() == null || !hasOnnx) {
            throw Errors.notServable(dir, "it has no " + OnnxSignature.FILE + " (published before ONNX export)");
        }
        byte[] bytes = store.read(model, version, OnnxSignature.FILE);
        OnnxSignature actual = OnnxSignature.of(bytes);
        if (!actual.equals(manifest.onnx())) {
            throw Errors.notServable(dir, "model.onnx's graph is " + actual + ", the manifest says " + manifest.onnx());
        }
        checkSignature(dir, actual);
        if (manifest.classNames() != null
                && manifest.classNames().size()
                        != actual.outputs().get(0).shape().get(1)) {
            throw Errors.notServable(
                    dir,
                    "its manifest names " + manifest.classNames().size() + " classes for "
                            + actual.outputs().get(0).shape().get(1) + " outputs");
        }
        OnnxSession session;
        try {
            session = OnnxSession.sharingCores(bytes, threads);
        } catch (IllegalArgumentException e) {
            throw Errors.notServable(dir, e.getMessage());
        }
        ServedVersion served = new ServedVersion(model, version, manifest, session);
        float[][] probe = served.run(new float[served.features], 1);
        for (float v : probe[0]) {
            if (!Float.isFinite(v) || probe[0].length != served.outputs) {
                served.release();
                throw Errors.notServable(dir, "it gives " + java.util.Arrays.toString(probe[0]) + " for zeros");
            }
        }
        return served;
    }

    private static void checkSignature(String dir, OnnxSignature s) {
        for (List<OnnxSignature.Tensor> tensors : List.of(s.inputs(), s.outputs())) {
            if (tensors.size() != 1
                    || !tensors.get(0).datatype().equals("FP32")
                    || tensors.get(0).shape().size() != 2
                    || tensors.get(0).shape().get(1) <= 0) {
                throw Errors.notServable(
                        dir, "serve runs graphs of one FP32 [batch, n] input and output, this one is " + s);
            }
        }
    }

    /** Whether {@code x} is {@code rows} rows of this version's input width. */
    boolean takes(float[] x, int rows) {
        return x.length == (long) rows * features;
    }

    /** The outputs for {@code rows} rows of {@link #features} values each, [rows][outputs]. */
    float[][] run(float[] x, int rows) {
        return session.run(x, rows);
    }

    /** Takes a reference; false when the version is already closed (then take the slot's current one). */
    boolean retain() {
        for (int r = refs.get(); r > 0; r = refs.get()) {
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
        return false;
    }

    /** Drops a reference; the last one closes the session. */
    void release() {
        if (refs.decrementAndGet() == 0) {
            session.close();
        }
    }

    /** The runtime platform name Triton and KServe give ONNX models. */
    static final String PLATFORM = "onnxruntime_onnx";
}
