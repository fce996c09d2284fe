package io.compactml.bench;

import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.dataset.DataSet;
import picocli.CommandLine.Command;

/**
 * Benchmark behind {@code bench/calibration.sh}: what the calibration pass costs over a plain batched inference
 * pass on the same examples, in one session. The calibration data is cached in memory first, so that neither
 * pass pays for reading files; then three passes:
 * <ul>
 *   <li>{@code data}: the minibatches are built and counted, nothing else;</li>
 *   <li>{@code inference}: every partition deserializes the model and runs {@code output} on its minibatches;</li>
 *   <li>{@code calibration}: {@link CalibrateJob#histograms}, the pass {@code calibrate} runs with
 *   {@code calibrate.runtime = dl4j}: the same forward pass keeping every activation, each value into its tensor's
 *   histogram, then the exact tree merge;</li>
 *   <li>{@code inference-ort}: the plain pass in ONNX Runtime on the model's ONNX form;</li>
 *   <li>{@code calibration-ort}: {@link CalibrateJob#onnxHistograms}, the pass of {@code calibrate.runtime =
 *   onnxruntime} (the default): the ONNX graph with every activation as an extra output.</li>
 * </ul>
 * The ratio printed is calibration-ort / inference-ort; {@code bench/calibration.sh} prints the others from the
 * medians.
 */
@Command(
        name = "calibration-benchmark",
        mixinStandardHelpOptions = true,
        description = "Time the calibration pass against a plain inference pass on the same cached data.")
public final class CalibrationBenchmark extends PassBenchmark {
    public static void main(String[] args) {
        main(new CalibrationBenchmark(), args);
    }

    @Override
    protected String name() {
        return "calibration-benchmark";
    }

    @Override
    protected Passes prepare(JobContext ctx) {
        int batch = CalibrationSettings.from(ctx.config()).batchSize();
        Cached data = cache(ctx, "calibration", batch);
        String uri = data.model().uri();
        int inputs = data.data().inputs();
        JavaRDD<DataSet> batches = SparkData.featureBatches(data.data(), inputs, batch);

        Map<String, Runnable> passes = new LinkedHashMap<>();
        passes.put("data", () -> batches.map(DataSet::numExamples).reduce(Integer::sum));
        passes.put("inference", inference(batches, data.zip(), uri));
        passes.put("calibration", () -> CalibrateJob.histograms(batches, data.zip(), uri));
        Broadcast<byte[]> onnx = ctx.jsc().broadcast(OnnxExport.of(data.model().net()));
        Broadcast<byte[]> observing =
                ctx.jsc().broadcast(OnnxExport.observing(data.model().net()));
        int tensors = data.model().net().getnLayers() + 1;
        passes.put("inference-ort", onnxInference(batches, onnx));
        passes.put("calibration-ort", () -> CalibrateJob.onnxHistograms(batches, observing, tensors));
        Console.out(
                "%,d examples, %d partitions, master %s, batch %d, OMP_NUM_THREADS=%s",
                data.examples(),
                batches.getNumPartitions(),
                ctx.spark().sparkContext().master(),
                batch,
                System.getenv("OMP_NUM_THREADS"));
        return new Passes(passes, "calibration-ort", "inference-ort", () -> {
            onnx.destroy();
            observing.destroy();
            data.release();
        });
    }
}
