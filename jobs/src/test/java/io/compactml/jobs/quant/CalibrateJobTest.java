package io.compactml.jobs.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.NetworkSpec;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.Table;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CalibrateJobTest {
    @TempDir
    static Path dir;

    private Path model;

    @BeforeAll
    void saveModel() throws IOException {
        // calibration needs a network, not a good one: a seeded random 784-32-10 MLP
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(SharedSpark.config("network.hidden=[32]")).build(784));
        net.init();
        model = dir.resolve("model.zip");
        Files.write(model, ModelIO.toBytes(net));
    }

    private CalibrateJob.Result calibrate(String runId, String... sets) {
        List<String> all = new ArrayList<>(List.of("model.path=\"" + model + "\"", "data.calibration.limit=700"));
        all.addAll(List.of(sets));
        return new CalibrateJob(SharedSpark.context(runId, all.toArray(String[]::new))).run();
    }

    /** tensor/kind/method/channel -> "scale zero_point clip_min clip_max", exact float text. */
    private static Map<String, String> params(CalibrateJob.Result r) {
        return r.quantParams().stream()
                .collect(Collectors.toMap(
                        CalibrateJobTest::key,
                        p -> p.scale() + " " + p.zeroPoint() + " " + p.clipMin() + " " + p.clipMax()));
    }

    @Test
    void parametersAreBitIdenticalIn1And3And7PartitionsInEitherRuntime() {
        for (String runtime : List.of("onnxruntime", "dl4j")) {
            String rt = "calibrate.runtime=" + runtime;
            Map<String, String> one = params(calibrate("cal-p1-" + runtime, rt, "data.calibration.partitions=1"));
            Map<String, String> three = params(calibrate("cal-p3-" + runtime, rt, "data.calibration.partitions=3"));
            Map<String, String> seven = params(calibrate("cal-p7-" + runtime, rt, "data.calibration.partitions=7"));
            // 3 activation tensors x 4 methods + 32 + 10 weight channels
            assertEquals(3 * 4 + 32 + 10, one.size(), runtime);
            assertEquals(one, three, runtime);
            assertEquals(one, seven, runtime);
        }
    }

    @Test
    void onnxRuntimeAndDl4jCalibrateTheSameWithinFloatRounding() {
        List<QuantParamRow> ort =
                calibrate("cal-ort", "calibrate.runtime=onnxruntime").quantParams();
        Map<String, QuantParamRow> dl4j = calibrate("cal-dl4j", "calibrate.runtime=dl4j").quantParams().stream()
                .collect(Collectors.toMap(CalibrateJobTest::key, p -> p));
        assertEquals(dl4j.size(), ort.size());
        for (QuantParamRow p : ort) {
            QuantParamRow ref = dl4j.get(key(p));
            if (p.tensorIndex() == 0 || p.kind().equals("weight")) {
                // the same pixels and the same weights: the same parameters, bit for bit
                assertEquals(ref.scale(), p.scale(), key(p));
                assertEquals(ref.zeroPoint(), p.zeroPoint(), key(p));
            } else {
                // layer outputs: ONNX Runtime's sums in another order, equal within float rounding
                float tolerance = 1e-4f * Math.max(1f, Math.abs(ref.clipMax()));
                assertEquals(ref.clipMin(), p.clipMin(), tolerance, key(p));
                assertEquals(ref.clipMax(), p.clipMax(), tolerance, key(p));
                assertEquals(ref.scale(), p.scale(), 1e-4f * ref.scale(), key(p));
                assertTrue(Math.abs(ref.zeroPoint() - p.zeroPoint()) <= 1, key(p));
            }
        }
    }

    private static String key(QuantParamRow p) {
        return p.tensorIndex() + "/" + p.kind() + "/" + p.method() + "/" + p.channel();
    }

    @Test
    void statisticsOfTheInputArePixelsOverTheirDivisor() {
        JobContext ctx = SharedSpark.context("cal-stats", "model.path=\"" + model + "\"", "data.calibration.limit=700");
        CalibrateJob.Result r = new CalibrateJob(ctx).run();
        assertEquals(700L * 784, r.histograms()[0].count());
        assertEquals(0f, r.histograms()[0].min());
        assertEquals(1f, r.histograms()[0].max(), "255 / 255: some pixel is saturated in 700 images");
        Row input = ctx.tables()
                .read(Table.CALIBRATION_STATS)
                .filter("tensor_index = 0")
                .first();
        List<Long> hist = input.getList(input.fieldIndex("histogram"));
        assertEquals(2048, hist.size());
        assertEquals(700L * 784, hist.stream().mapToLong(Long::longValue).sum(), "every finite value is binned");
        // minmax of the input: [0, 1] -> scale 1/255, zero point -128
        QuantParamRow minmax = r.quantParams().stream()
                .filter(p -> p.tensorIndex() == 0 && p.method().equals("minmax"))
                .findFirst()
                .orElseThrow();
        assertEquals(1f / 255, minmax.scale(), 1e-9f);
        assertEquals(-128, minmax.zeroPoint());
        assertEquals(3 * 4 + 32 + 10, ctx.tables().read(Table.QUANT_PARAMS).count());
    }

    @Test
    void nonFiniteValuesAreCountedAndFailTheJobAboveTheLimit() throws IOException {
        Path csv = dir.resolve("nan.csv");
        StringBuilder sb = new StringBuilder("f0,f1,label\n");
        for (int i = 0; i < 99; i++) {
            sb.append(i % 7).append(",1,0\n");
        }
        sb.append("NaN,1,0\n");
        Files.writeString(csv, sb);
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(SharedSpark.config("network.hidden=[4]")).build(2));
        net.init();
        Path small = dir.resolve("small.zip");
        Files.write(small, ModelIO.toBytes(net));
        String[] data = {
            "model.path=\"" + small + "\"",
            "data.calibration.format=csv",
            "data.calibration.uri=\"" + csv + "\"",
            "data.calibration.features=\"f*\"",
            "data.calibration.scaling=none"
        };
        CompactMLException e = assertThrows(
                CompactMLException.class, () -> new CalibrateJob(SharedSpark.context("cal-nan", data)).run());
        assertEquals(1, e.exitCode());
        assertTrue(
                e.getMessage().contains("Tensor input: 1 of 200 values (0.5000 %) are NaN or infinite"),
                e.getMessage());
        List<String> lenient = new ArrayList<>(List.of(data));
        lenient.add("calibrate.max-nonfinite-fraction=0.5");
        CalibrateJob.Result r = new CalibrateJob(SharedSpark.context("cal-nan2", lenient.toArray(String[]::new))).run();
        assertEquals(1, r.histograms()[0].nanCount());
        assertEquals(199, r.histograms()[0].count());
        assertEquals(6f, r.histograms()[0].max(), "NaN excluded from the range");
    }

    @Test
    void featureLengthMismatchIsAUsageError() {
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> calibrate(
                        "cal-shape",
                        "data.calibration.format=csv",
                        "data.calibration.uri=\"" + writeTiny() + "\"",
                        "data.calibration.features=\"f*\""));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().startsWith("Model expects 784 inputs"), e.getMessage());
    }

    private Path writeTiny() {
        try {
            Path csv = dir.resolve("tiny.csv");
            Files.writeString(csv, "f0,f1,label\n1,2,0\n");
            return csv;
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
