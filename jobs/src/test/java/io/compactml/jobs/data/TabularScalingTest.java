package io.compactml.jobs.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelIO;
import io.compactml.common.onnx.OnnxSession;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.pipeline.PipelineJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.tables.CandidateRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.tables.TrainingHistoryRow;
import io.compactml.jobs.train.TrainJob;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A table in raw units (src/test/resources/tabular, made by make_tables.py: 8 features whose standard deviations run
 * from 2e4 down to 2e-3, 3 classes): {@code scaling = standardize} fits the statistics on Spark (checked against
 * numpy's), stores them in the model so that the model and its {@code model.onnx} take raw rows, and int8 keeps the
 * small-valued features; without it, {@code calibrate} names the features int8 erases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class TabularScalingTest {
    private JobContext ctx;
    private TrainJob.Result trained;

    public static String table(String name) {
        try {
            return Path.of(TabularScalingTest.class
                            .getResource("/tabular/" + name)
                            .toURI())
                    .toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Settings for the loans tables with {@code scaling} on every split, plus {@code more}. */
    public static String[] loans(String scaling, String... more) {
        List<String> sets = new ArrayList<>(
                List.of("model.name=loans", "network.hidden=[32, 16]", "network.outputs=3", "train.epochs=15"));
        sets.addAll(onTable("loans", "f*", scaling));
        sets.addAll(List.of(more));
        return sets.toArray(String[]::new);
    }

    /**
     * Every split on the fixture {@code <table>-train.csv} (train, calibration) or {@code <table>-test.csv} (eval,
     * monitor) with {@code scaling}, and small training settings.
     */
    static List<String> onTable(String table, String features, String scaling) {
        List<String> sets = new ArrayList<>(List.of(
                "train.batch-size=32",
                "train.learning-rate=0.003",
                "train.validate=false",
                "quantize.sensitivity=false",
                "evaluate.latency-runs=0"));
        for (String split : List.of("train", "eval", "calibration", "monitor")) {
            String file = table + (split.equals("eval") || split.equals("monitor") ? "-test.csv" : "-train.csv");
            sets.addAll(List.of(
                    "data." + split + ".name=" + file.replace(".csv", ""),
                    "data." + split + ".format=csv",
                    "data." + split + ".uri=\"" + table(file) + "\"",
                    "data." + split + ".features=\"" + features + "\"",
                    "data." + split + ".label=label",
                    "data." + split + ".scaling=" + scaling));
        }
        return sets;
    }

    @BeforeAll
    void train() {
        ctx = SharedSpark.context("tab-1", loans("standardize"));
        trained = new TrainJob(ctx).run();
    }

    @Test
    void theStatisticsAreNumpysAndStoredInTheModel() throws IOException {
        JsonNode stats = new ObjectMapper()
                .readTree(Files.readString(Path.of(table("stats.json"))))
                .get("loans");
        FeatureScaling s = FeatureScaling.of(trained.model("loans").net()).orElseThrow();
        assertEquals("standardize", s.method());
        for (int j = 0; j < 8; j++) {
            double mean = stats.get("mean").get(j).asDouble();
            double std = stats.get("std").get(j).asDouble();
            assertEquals(mean, s.shift()[j], Math.abs(mean) * 1e-6, "mean of f" + j);
            assertEquals(1 / std, s.factor()[j], 1e-5 / std, "1 / std of f" + j);
        }
    }

    @Test
    void theModelAndItsOnnxTakeRawRowsAndInt8KeepsTheSmallFeatures() throws IOException {
        MultiLayerNetwork net = trained.model("loans").net();
        INDArray raw = rawRows("loans-test.csv", 200);
        byte[] onnx = ModelIO.readBytes(ModelFiles.onnxUri(trained.modelUri()), new Configuration());
        try (OnnxSession s = OnnxSession.of(onnx, 1)) {
            double diff = Transforms.abs(s.output(raw).sub(net.output(raw, false)))
                    .maxNumber()
                    .doubleValue();
            assertTrue(diff < 1e-5, "ONNX Runtime vs DL4J on raw rows: " + diff);
        }

        EvaluateJob.Result evaluated = new EvaluateJob(ctx).run();
        double fp = evaluated.metrics().get("accuracy");
        // scikit-learn's logistic regression on the standardized table: 0.8560 (bench/tabular_baseline.py)
        assertTrue(fp >= 0.85, "standardized source accuracy " + fp);
        CalibrateJob.Result calibrated = new CalibrateJob(ctx).run();
        // the quantized input is the standardized one: z-scores, not incomes
        assertTrue(calibrated.histograms()[0].max() < 10, "input max " + calibrated.histograms()[0].max());
        QuantizeJob.Result q = new QuantizeJob(ctx).run();
        double int8 = q.variants().get("int8").get("accuracy");
        assertTrue(Math.abs(fp - int8) <= 0.01, "float " + fp + " vs int8 " + int8);

        new PublishJob(ctx).publish("loans", ModelKind.FLOAT, trained.modelZip(), trained.modelSha256(), Map.of());
        Manifest m = new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop()).verify("loans", "tab-1");
        assertEquals("standardize", m.inputScaling().method());
        assertEquals(8, m.inputScaling().shift().length);
    }

    @Test
    void fineTuningInStepsAndEarlyStoppingKeepThePrunedModelWithinAPoint() {
        double source = new EvaluateJob(ctx)
                .quality(trained.model("loans").net(), "source")
                .get("accuracy");
        // 3,000 rows, 2 workers, minibatches of 32: 47 per worker and epoch; 430 steps = 10 epochs
        JobContext steps = SharedSpark.context(
                "tab-steps",
                loans(
                        "standardize",
                        "model.path=\"" + trained.modelUri() + "\"",
                        "prune.target-sparsity=0.5",
                        "prune.fine-tune-steps=430"));
        PruneJob.Result plain = new PruneJob(steps).run();
        assertEquals(
                10,
                steps.tables()
                        .rows(Table.TRAINING_HISTORY, Scope.run("tab-steps"), TrainingHistoryRow.class)
                        .size());
        assertTrue(
                plain.metrics().get("accuracy") >= source - 0.01,
                "source " + source + ", pruned " + plain.metrics().get("accuracy"));
        // early stopping: at most the 10 epochs, the best held-out epoch's weights kept
        JobContext early = SharedSpark.context(
                "tab-early",
                loans(
                        "standardize",
                        "model.path=\"" + trained.modelUri() + "\"",
                        "prune.target-sparsity=0.5",
                        "prune.fine-tune-steps=430",
                        "prune.patience=2"));
        PruneJob.Result stopped = new PruneJob(early).run();
        int epochs = early.tables()
                .rows(Table.TRAINING_HISTORY, Scope.run("tab-early"), TrainingHistoryRow.class)
                .size();
        assertTrue(epochs >= 3 && epochs <= 10, epochs + " epochs");
        assertTrue(
                stopped.metrics().get("accuracy") >= source - 0.01,
                "source " + source + ", pruned with early stopping "
                        + stopped.metrics().get("accuracy"));
    }

    @Test
    void withoutScalingCalibrateNamesTheFeaturesInt8Erases() {
        JobContext raw = SharedSpark.context("tab-raw", loans("none", "train.epochs=1"));
        new TrainJob(raw).run();
        CalibrateJob.Result r = new CalibrateJob(raw).run();
        // the input tensor spans the incomes (about [-20e3, 130e3]): one int8 step is about 500; the age (std 12),
        // the years (5), the ratio (0.15) and the three rates (0.02, 0.002, 0.002) all span less than that
        assertTrue(r.histograms()[0].max() > 100_000);
        SparkData.Loaded data =
                SparkData.load(raw.spark(), io.compactml.common.data.DatasetSpec.from(raw.config(), "calibration"));
        assertEquals(
                List.of(2, 3, 4, 5, 6, 7),
                CalibrateJob.erasedFeatures(LoadedModel.read(raw).net(), data, r.histograms()[0], 64));
    }

    @Test
    void splitsThatDisagreeWithTheModelAreConfigErrors() {
        // a standardizing model fed divided features
        CompactMLException divided = assertThrows(
                CompactMLException.class,
                () -> new EvaluateJob(SharedSpark.context(
                                "tab-2",
                                loans(
                                        "standardize",
                                        "model.path=\"" + trained.modelUri() + "\"",
                                        "data.eval.scaling=divide")))
                        .run());
        assertEquals(2, divided.exitCode());
        assertTrue(divided.getMessage().contains("data.eval.scaling"), divided.getMessage());
        assertTrue(divided.getMessage().contains("scales its raw inputs itself"), divided.getMessage());
        // per-feature scaling asked of a CNN
        CompactMLException cnn = assertThrows(
                CompactMLException.class,
                () -> new TrainJob(SharedSpark.context(
                                "tab-3",
                                loans(
                                        "standardize",
                                        "network.type=cnn",
                                        "network.input-shape=[2, 4, 1]",
                                        "network.conv-filters=[2]",
                                        "network.dense=4")))
                        .run());
        assertEquals(2, cnn.exitCode());
        assertTrue(cnn.getMessage().contains("data.train.scaling"), cnn.getMessage());
    }

    @Test
    void aRegressionPlanPublishesACandidateWithinItsMseConstraint() {
        // the article's regression shape: 10 inputs in raw units (std 1e3 down to 1e-2), Dense(10, relu), Dense(1)
        List<String> sets = new ArrayList<>(List.of(
                "model.name=reg",
                "task=regression",
                "network.hidden=[10]",
                "network.outputs=1",
                "train.epochs=30",
                "pipeline.candidates=[\"int8:percentile\", \"prune:magnitude:0.5\", \"int4:percentile\","
                        + " \"qat:4\"]",
                "pipeline.max-mse-increase=0.05",
                "pipeline.min-r2=0.9"));
        sets.addAll(onTable("regression", "x*", "standardize"));
        JobContext reg = SharedSpark.context("tab-reg", sets.toArray(String[]::new));
        new TrainJob(reg).run();
        PipelineJob.Result plan = new PipelineJob(reg).run();
        double sourceMse = plan.source().get("mse");
        // scikit-learn's MLP with 10 hidden units on the standardized table: MSE 0.1526 (bench/tabular_baseline.py)
        assertTrue(sourceMse < 0.1526, "standardized source MSE " + sourceMse);
        List<CandidateRow> rows = reg.tables().rows(Table.CANDIDATES, Scope.run("tab-reg"), CandidateRow.class);
        assertEquals(4, rows.size());
        assertEquals(
                java.util.Set.of("int8:percentile", "prune:magnitude:0.5", "int4:percentile", "qat:4"),
                rows.stream().map(CandidateRow::candidate).collect(java.util.stream.Collectors.toSet()));
        for (CandidateRow r : rows) {
            assertEquals(null, r.accuracy(), r.candidate());
            assertEquals(sourceMse, r.sourceMse(), 1e-12);
            assertTrue(r.mse() > 0 && r.r2() < 1, r.candidate() + " " + r.mse() + " " + r.r2());
            assertEquals(r.mse() / sourceMse - 1, r.mseIncrease(), 1e-9, r.candidate());
        }
        PipelineJob.Outcome chosen = plan.chosen().orElseThrow();
        assertTrue(chosen.verdict().mseIncrease() <= 0.05, chosen.verdict().decision());
        Manifest published = plan.published().orElseThrow().manifest();
        assertEquals("standardize", published.inputScaling().method());
        assertEquals(10, published.inputScaling().shift().length);
        assertTrue(published.metrics().containsKey("mse"));
    }

    /** The first {@code n} rows of a tabular fixture, features only, as written: [n, 8]. */
    private static INDArray rawRows(String file, int n) throws IOException {
        List<String> lines = Files.readAllLines(Path.of(table(file)));
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            String[] cells = lines.get(i + 1).split(",");
            rows[i] = new float[cells.length - 1];
            for (int j = 0; j < rows[i].length; j++) {
                rows[i][j] = Float.parseFloat(cells[j]);
            }
        }
        return Nd4j.create(rows);
    }
}
