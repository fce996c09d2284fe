package io.compactml.common.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.compactml.common.eval.LatencyProbe;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One ONNX model loaded in ONNX Runtime (the CPU provider, every graph optimization on), run on float input of
 * [batch, features]: what a serving runtime computes. Not thread-safe to close while running; one per thread or
 * per Spark partition.
 */
public final class OnnxSession implements AutoCloseable {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private final OrtSession session;
    private final String input;
    private final long features;

    private OnnxSession(OrtSession session) throws OrtException {
        this.session = session;
        this.input = session.getInputNames().iterator().next();
        long[] shape =
                ((ai.onnxruntime.TensorInfo) session.getInputInfo().get(input).getInfo()).getShape();
        this.features = shape[shape.length - 1];
    }

    /**
     * Loads {@code model} with {@code threads} intra-op threads (one inter-op thread: the graphs are chains).
     *
     * @throws IllegalArgumentException when the runtime refuses the model, with its reason
     */
    public static OnnxSession of(byte[] model, int threads) {
        return of(model, threads, null);
    }

    /** As {@link #of(byte[], int)}, also writing the graph the runtime optimized to {@code optimized} (may be null). */
    public static OnnxSession of(byte[] model, int threads, Path optimized) {
        return of(model, threads, optimized, true);
    }

    /**
     * A session for a process that shares its cores with other work (a model server's HTTP threads): the intra-op
     * threads sleep between runs instead of spinning ({@code session.intra_op.allow_spinning = 0}), which on few
     * cores would take a core from the requests' parsing after every run.
     */
    public static OnnxSession sharingCores(byte[] model, int threads) {
        return of(model, threads, null, false);
    }

    private static OnnxSession of(byte[] model, int threads, Path optimized, boolean spinning) {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.addConfigEntry("session.intra_op.allow_spinning", spinning ? "1" : "0");
            o.setInterOpNumThreads(1);
            o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (optimized != null) {
                o.setOptimizedModelFilePath(optimized.toString());
            }
            return new OnnxSession(ENV.createSession(model, o));
        } catch (OrtException e) {
            throw new IllegalArgumentException("ONNX Runtime refused the model: " + e.getMessage(), e);
        }
    }

    /** The op types of the graph ONNX Runtime runs for {@code model} after its optimizations. */
    public static List<String> optimizedOps(byte[] model, int threads) {
        try {
            Path file = Files.createTempFile("compactml-optimized", ".onnx");
            try (OnnxSession s = of(model, threads, file)) {
                return OnnxImport.opTypes(Files.readAllBytes(file));
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The model's outputs for {@code x}, rows of {@code features} float values; [rows, outputs]. */
    public float[][] run(float[] x, int rows) {
        try (OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x), new long[] {rows, features});
                OrtSession.Result r = session.run(Map.of(input, t))) {
            return (float[][]) r.get(0).getValue();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /**
     * One row's shape of each output of {@code names} (the batch dimension left out), from a run on one row of
     * zeros: what {@link #bind} needs for outputs whose shape the graph leaves to the runtime.
     */
    public List<long[]> rowShapes(List<String> names) {
        try (OnnxTensor t = OnnxTensor.createTensor(
                        ENV, FloatBuffer.wrap(new float[(int) features]), new long[] {1, features});
                OrtSession.Result r = session.run(Map.of(input, t), new java.util.LinkedHashSet<>(names))) {
            List<long[]> shapes = new java.util.ArrayList<>();
            for (String name : names) {
                long[] shape = ((ai.onnxruntime.TensorInfo) r.get(name)
                                .orElseThrow(() -> new IllegalArgumentException("The ONNX model has no output " + name))
                                .getInfo())
                        .getShape();
                shapes.add(java.util.Arrays.copyOfRange(shape, 1, shape.length));
            }
            return shapes;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    /**
     * Input and outputs {@code names} bound to direct buffers for batches of {@code rows} rows (ONNX Runtime's pinned
     * outputs): run after run the runtime reads and writes them in place, nothing is allocated or copied per run.
     *
     * @param rowShapes one row's shape of each output, as {@link #rowShapes} gives them
     */
    public Bound bind(int rows, List<String> names, List<long[]> rowShapes) {
        return new Bound(rows, names, rowShapes);
    }

    /** A batch size's input and outputs in direct buffers ({@link #bind}); close after use. */
    public final class Bound implements AutoCloseable {
        private final FloatBuffer in;
        private final OnnxTensor inTensor;
        private final Map<String, OnnxTensor> outputs = new java.util.LinkedHashMap<>();
        private final List<FloatBuffer> buffers = new java.util.ArrayList<>();

        private Bound(int rows, List<String> names, List<long[]> rowShapes) {
            try {
                in = direct(rows * features);
                inTensor = OnnxTensor.createTensor(ENV, in, new long[] {rows, features});
                for (int i = 0; i < names.size(); i++) {
                    long[] shape = new long[rowShapes.get(i).length + 1];
                    shape[0] = rows;
                    System.arraycopy(rowShapes.get(i), 0, shape, 1, rowShapes.get(i).length);
                    long size = 1;
                    for (long d : shape) {
                        size *= d;
                    }
                    FloatBuffer b = direct(size);
                    buffers.add(b);
                    outputs.put(names.get(i), OnnxTensor.createTensor(ENV, b, shape));
                }
            } catch (OrtException e) {
                close();
                throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
            }
        }

        private static FloatBuffer direct(long values) {
            return java.nio.ByteBuffer.allocateDirect(Math.toIntExact(values * 4))
                    .order(java.nio.ByteOrder.nativeOrder())
                    .asFloatBuffer();
        }

        /** Runs the model on {@code x}: the bound rows of {@code features} values, row-major. */
        public void run(float[] x) {
            in.clear();
            in.put(x);
            in.clear();
            try (OrtSession.Result r = session.run(Map.of(input, inTensor), outputs)) {
                r.size();
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
            }
        }

        /** Output {@code i} of the last {@link #run}, flat in row-major order (a view: position 0, read only). */
        public FloatBuffer output(int i) {
            return buffers.get(i).asReadOnlyBuffer();
        }

        @Override
        public void close() {
            if (inTensor != null) {
                inTensor.close();
            }
            outputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Rows of {@code x} [rows, features] as float32 values in row-major order (no copy when they already are). */
    public static float[] rowMajor(INDArray x) {
        return x.dataType() == DataType.FLOAT && !x.isView() && x.ordering() == 'c'
                ? x.data().asFloat()
                : x.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** {@link #run} on a minibatch's features [rows, features], as an INDArray [rows, outputs]. */
    public INDArray output(INDArray x) {
        return Nd4j.create(run(rowMajor(x), (int) x.rows()));
    }

    /**
     * A prepared input of {@code rows} rows, run again and again without copying it: for timing what the runtime
     * itself costs. Close it after use.
     */
    public Prepared prepare(float[] x, int rows) {
        try {
            java.nio.ByteBuffer direct =
                    java.nio.ByteBuffer.allocateDirect(x.length * 4).order(java.nio.ByteOrder.nativeOrder());
            direct.asFloatBuffer().put(x);
            return new Prepared(OnnxTensor.createTensor(ENV, direct.asFloatBuffer(), new long[] {rows, features}));
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An input tensor held by the runtime, run by {@link #run()}. */
    public final class Prepared implements LatencyProbe.Prepared {
        private final OnnxTensor tensor;

        private Prepared(OnnxTensor tensor) {
            this.tensor = tensor;
        }

        /** Runs the model on the prepared input; the output stays in the runtime and is released. */
        public void run() {
            try (OrtSession.Result r = session.run(Map.of(input, tensor))) {
                r.get(0);
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            tensor.close();
        }
    }

    /** {@link #prepare} on a minibatch's features [rows, features]: a latency target. */
    public Prepared prepare(INDArray x) {
        return prepare(x.castTo(DataType.FLOAT).dup('c').data().asFloat(), (int) x.rows());
    }

    /** Features each input row has. */
    public long features() {
        return features;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
