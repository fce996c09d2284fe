package io.compactml.bench;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.config.ConfigKeys;
import io.compactml.common.data.IdxFile;
import io.compactml.common.eval.LatencyProbe;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.ActivationType;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Benchmark behind {@code bench/serving.sh}: inference latency of the shipped MLP and CNN as served, in one JVM and
 * one run: ONNX Runtime float and int8 (the QDQ export, activations calibrated with the percentile method on
 * Fashion-MNIST test images), the networks with half their channels removed, and DL4J float, at batch 1 and 256.
 * Weights are the networks' seeded initial ones: latency does not depend on what the weights learnt (dense
 * kernels multiply every weight); accuracy is measured by the jobs, not here. Prints p50 milliseconds and the
 * speedups, measured side by side.
 */
@Command(
        name = "serving-benchmark",
        mixinStandardHelpOptions = true,
        description = "ONNX Runtime float vs int8 vs DL4J latency of the shipped networks.")
public final class ServingBenchmark implements Callable<Integer> {
    @Option(names = "--threads", defaultValue = "2", description = "ONNX Runtime intra-op threads (default 2).")
    int threads;

    @Option(names = "--runs", defaultValue = "300", description = "Timed single-example runs (batches: a tenth).")
    int runs;

    @Option(names = "--calibration", defaultValue = "2000", description = "Images the int8 parameters come from.")
    int calibration;

    @Option(names = "--activations", defaultValue = "int8", description = "int8 or uint8 activations.")
    String activations;

    @Option(
            names = "--nchw-flatten",
            description = "Flatten int8 convolution outputs in DL4J's channel-first order instead of NHWC.")
    private boolean nchwFlatten;

    @Option(names = "--per-tensor", description = "One weight scale per tensor instead of per output channel.")
    boolean perTensor;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServingBenchmark()).execute(args));
    }

    private record Net(String name, MultiLayerNetwork net) {}

    @Override
    public Integer call() throws Exception {
        INDArray images = images(calibration);
        List<Net> nets = List.of(
                new Net("MLP 784-512-256-10", network()),
                new Net("MLP 784-256-128-10 (half the channels)", network("network.hidden=[256, 128]")),
                new Net("CNN 32-64 conv, 128 dense", network("network.type=cnn")),
                new Net(
                        "CNN 16-32 conv, 64 dense (half)",
                        network("network.type=cnn", "network.conv-filters=[16, 32]", "network.dense=64")));
        System.out.printf(
                Locale.ROOT,
                "ONNX Runtime %d threads, DL4J OMP_NUM_THREADS=%s, %d single runs%n",
                threads,
                System.getenv("OMP_NUM_THREADS"),
                runs);
        System.out.printf(
                Locale.ROOT,
                "%-40s %6s %12s %12s %12s %9s %12s %9s %9s%n",
                "network",
                "batch",
                "dl4j float",
                "ort float",
                "ort int8",
                "int8/ort",
                "int8 l0 fp",
                "l0fp/ort",
                "ort/dl4j");
        for (Net n : nets) {
            byte[] fp = OnnxExport.of(n.net());
            ActivationType type = ActivationType.valueOf(activations.toUpperCase(Locale.ROOT));
            QuantParams[] acts = calibrate(n.net(), images, type);
            byte[] q = OnnxExport.of(Int8Model.quantize(n.net(), acts, !perTensor, Set.of()), !nchwFlatten);
            // the first layer kept in float (quantize.float-layers = [0]): a convolution over one input channel
            // is slower in int8 than in float
            byte[] q0 = OnnxExport.of(Int8Model.quantize(n.net(), acts, !perTensor, Set.of(0)), !nchwFlatten);
            // the ONNX Runtime models timed in turn on the same prepared inputs (a slow spell of the machine hits
            // all), one session alive at a time beside the others': its spinning workers would take cores; then DL4J
            double[][] ort = interleaved(images, fp, q, q0);
            double[] ortFloat = ort[0];
            double[] ortInt8 = ort[1];
            double[] ortInt8FirstFloat = ort[2];
            double[] dl4j = latency(x -> () -> n.net().output(x, false), images);
            for (int b = 0; b < 2; b++) {
                System.out.printf(
                        Locale.ROOT,
                        "%-40s %6d %12.3f %12.3f %12.3f %8.2fx %12.3f %8.2fx %8.1fx%n",
                        n.name(),
                        b == 0 ? 1 : 256,
                        dl4j[b],
                        ortFloat[b],
                        ortInt8[b],
                        ortFloat[b] / ortInt8[b],
                        ortInt8FirstFloat[b],
                        ortFloat[b] / ortInt8FirstFloat[b],
                        dl4j[b] / ortFloat[b]);
            }
        }
        return 0;
    }

    /**
     * p50 ms at batch 1 and 256 of each model, [model][batch 1, batch 256]: in alternating blocks, one session alive
     * at a time (a session's spinning worker threads would take cores from the others'), so that a slow spell of the
     * machine hits all of them.
     */
    private double[][] interleaved(INDArray images, byte[]... models) {
        double[][] out = new double[models.length][2];
        int[] batches = {1, 256};
        for (int k = 0; k < 2; k++) {
            int rows = batches[k];
            float[] x = images.get(
                            org.nd4j.linalg.indexing.NDArrayIndex.interval(0, rows),
                            org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .dup('c')
                    .data()
                    .asFloat();
            int n = Math.max(10, (rows == 1 ? runs : runs / 10) / BLOCKS);
            List<List<Double>> ms = new ArrayList<>();
            for (byte[] ignored : models) {
                ms.add(new ArrayList<>());
            }
            for (int block = 0; block < BLOCKS; block++) {
                for (int m = 0; m < models.length; m++) {
                    try (OnnxSession s = OnnxSession.of(models[m], threads);
                            OnnxSession.Prepared p = s.prepare(x, rows)) {
                        for (int i = 0; i < n; i++) {
                            p.run();
                        }
                        for (int i = 0; i < n; i++) {
                            long t0 = System.nanoTime();
                            p.run();
                            ms.get(m).add((System.nanoTime() - t0) / 1e6);
                        }
                    }
                }
            }
            for (int m = 0; m < models.length; m++) {
                out[m][k] = median(
                        ms.get(m).stream().mapToDouble(Double::doubleValue).toArray());
            }
        }
        return out;
    }

    private static final int BLOCKS = 4;

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    /** p50 ms of one example and of a batch of 256. */
    private double[] latency(io.compactml.common.eval.LatencyProbe.Target model, INDArray images) {
        var m = LatencyProbe.measure(model, images, runs, 256);
        return new double[] {m.get("latency_single_p50_ms"), m.get("latency_batch_p50_ms")};
    }

    private static QuantParams[] calibrate(MultiLayerNetwork net, INDArray images, ActivationType type) {
        ActivationObserver observer = new ActivationObserver(net);
        for (int start = 0; start < images.rows(); start += 500) {
            observer.observe(images.get(
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(start, Math.min(images.rows(), start + 500)),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()));
        }
        FloatHistogram[] h = observer.histograms();
        QuantParams[] acts = new QuantParams[h.length];
        for (int t = 0; t < h.length; t++) {
            float[] clip = CalibrationMethod.PERCENTILE.clip(h[t], 99.99);
            acts[t] = QuantParams.affine(clip[0], clip[1], type.qmin(), type.qmax());
        }
        acts[h.length - 1] = new QuantParams(1f / 256, type.qmin(), type.qmin(), type.qmax());
        return acts;
    }

    private static MultiLayerNetwork network(String... sets) {
        List<String> all = new ArrayList<>(List.of(sets));
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(CompactConfig.load(null, all)).build(784));
        net.init();
        return net;
    }

    private static INDArray images(int n) throws Exception {
        String uri = ConfigKeys.FMNIST + "t10k-images-idx3-ubyte.gz";
        try (InputStream in = Files.newInputStream(Path.of(uri))) {
            return Nd4j.create(IdxFile.read(in, uri, 0, n)).divi(255f);
        }
    }
}
