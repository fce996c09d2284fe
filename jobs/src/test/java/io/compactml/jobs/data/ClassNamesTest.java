package io.compactml.jobs.data;

import static io.compactml.jobs.data.TabularScalingTest.loans;
import static io.compactml.jobs.data.TabularScalingTest.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.artifact.TritonRepository;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ClassNames;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.quant.Int8Model;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.train.TrainJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class names as labels ({@code label-mapping = auto}) on the loans table exported with names
 * (src/test/resources/tabular/loans-names-*.csv: index 0 decline, 1 review, 2 approve, row for row the loans
 * tables): the vocabulary is data.train's sorted names, stored in the model, its int8 file, its ONNX graph, its
 * manifest and its Triton repository; a label outside it is a usage error naming it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClassNamesTest {
    private static final List<String> SORTED = List.of("approve", "decline", "review");

    @TempDir
    Path tmp;

    private JobContext ctx;
    private TrainJob.Result trained;

    /** The loans settings on the names tables, {@code label-mapping = auto} on every split, plus {@code more}. */
    private static String[] names(String... more) {
        List<String> sets = new ArrayList<>();
        for (String s : loans("standardize", "publish.layout=triton")) {
            sets.add(s.replace("loans-train", "loans-names-train").replace("loans-test", "loans-names-test"));
        }
        for (String split : List.of("train", "eval", "calibration", "monitor")) {
            sets.add("data." + split + ".label-mapping=auto");
        }
        sets.addAll(List.of(more));
        return sets.toArray(String[]::new);
    }

    @BeforeAll
    void train() {
        ctx = SharedSpark.context("names-1", names());
        trained = new TrainJob(ctx).run();
    }

    @Test
    void labelsMapToTheIndexOfTheirNameInTheSortedVocabularyRowForRow() {
        DatasetSpec train = DatasetSpec.from(ctx.config(), "train");
        assertEquals(SORTED, SparkData.classNames(ctx.spark(), train));

        DatasetSpec names = DatasetSpec.from(ctx.config(), "eval").withClasses(SORTED);
        DatasetSpec indices = DatasetSpec.from(
                SharedSpark.context("names-2", loans("standardize")).config(), "eval");
        Map<Long, Double> byName = labels(SparkData.load(ctx.spark(), names));
        Map<Long, Double> byIndex = labels(SparkData.load(ctx.spark(), indices));
        assertEquals(1500, byName.size());
        // decline (0) -> 1, review (1) -> 2, approve (2) -> 0
        double[] mapped = {1, 2, 0};
        byIndex.forEach((row, index) -> assertEquals(mapped[(int) (double) index], byName.get(row), "row " + row));
    }

    private static Map<Long, Double> labels(SparkData.Loaded data) {
        Map<Long, Double> m = new HashMap<>();
        for (Row r : data.rows().select("row_id", "label").collectAsList()) {
            m.put(r.getLong(0), r.getDouble(1));
        }
        return m;
    }

    @Test
    void theModelItsInt8FileGraphManifestAndTritonRepositoryCarryTheNames() throws IOException {
        assertEquals(
                SORTED,
                ClassNames.of(trained.model("loans").net()).orElseThrow().names());
        double fp = new EvaluateJob(ctx).run().metrics().get("accuracy");
        // the same table with index labels trains to 0.886 (TabularScalingTest); scikit-learn's logistic regression
        // 0.856
        assertTrue(fp >= 0.85, "accuracy on class names " + fp);

        new CalibrateJob(ctx).run();
        QuantizeJob.Result q = new QuantizeJob(ctx).run();
        assertTrue(
                Math.abs(fp - q.variants().get("int8").get("accuracy")) <= 0.01,
                q.variants().toString());
        Int8Model int8 = Int8Model.fromBytes(q.file(), q.uri());
        assertEquals(SORTED, ClassNames.of(int8.toNetwork()).orElseThrow().names());

        new PublishJob(ctx).publish("loans", ModelKind.FLOAT, trained.modelZip(), trained.modelSha256(), Map.of());
        ArtifactStore store = new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop());
        Manifest m = store.verify("loans", "names-1");
        assertEquals(SORTED, m.classNames());
        Onnx.ModelProto graph = Onnx.ModelProto.parseFrom(store.read("loans", "names-1", "model.onnx"));
        assertEquals(OnnxExport.CLASS_NAMES, graph.getMetadataProps(0).getKey());
        assertEquals(
                "[\"approve\",\"decline\",\"review\"]",
                graph.getMetadataProps(0).getValue());
        Path triton = Path.of(ctx.config().getString("artifacts.root"), "triton", "loans");
        assertEquals("approve\ndecline\nreview\n", Files.readString(triton.resolve(TritonRepository.LABELS_FILE)));
        assertTrue(
                Files.readString(triton.resolve("config.pbtxt")).contains("label_filename: \"labels.txt\""),
                Files.readString(triton.resolve("config.pbtxt")));
    }

    @Test
    void aLabelOutsideTheVocabularyIsAUsageErrorNamingIt() throws IOException {
        Path eval = tmp.resolve("loans-names-extra.csv");
        List<String> lines = Files.readAllLines(Path.of(table("loans-names-test.csv")));
        List<String> rows = new ArrayList<>(lines.subList(0, 50));
        rows.add(lines.get(1).replaceAll(",[a-z]+$", ",write-off"));
        Files.write(eval, rows);
        JobContext c = SharedSpark.context(
                "names-1", names("data.eval.uri=\"" + eval + "\"", "model.path=\"" + trained.modelUri() + "\""));
        CompactMLException e = assertThrows(CompactMLException.class, () -> new EvaluateJob(c).run());
        assertEquals(CompactMLException.Kind.USAGE, e.kind());
        assertTrue(
                e.getMessage()
                        .contains("label 'write-off' in column 'label' is not one of the model's classes"
                                + " (approve, decline, review)"),
                e.getMessage());
    }

    @Test
    void mappingsThatDisagreeWithTheModelOrTheDataAreConfigErrors() {
        // index labels asked of a model that classifies into names
        CompactMLException index = assertThrows(
                CompactMLException.class,
                () -> new EvaluateJob(SharedSpark.context(
                                "names-1",
                                names("data.eval.label-mapping=index", "model.path=\"" + trained.modelUri() + "\"")))
                        .run());
        assertTrue(index.getMessage().contains("'data.eval.label-mapping' has value 'index'"), index.getMessage());
        assertTrue(index.getMessage().contains("(approve, decline, review)"), index.getMessage());
        // names asked of a model trained on indices: the trained model without its names
        MultiLayerConfiguration conf =
                trained.model("loans").net().getLayerWiseConfigurations().clone();
        conf.getInputPreProcessors().remove(conf.getConfs().size() - 1);
        MultiLayerNetwork plain = new MultiLayerNetwork(conf);
        plain.init();
        CompactMLException auto = assertThrows(
                CompactMLException.class,
                () -> ClassNames.checkData(plain, "loans", DatasetSpec.from(ctx.config(), "eval")));
        assertEquals(CompactMLException.Kind.USAGE, auto.kind());
        assertTrue(auto.getMessage().contains("index, as model 'loans' was trained"), auto.getMessage());
        // a regression target and IDX files have no names
        CompactMLException regression = assertThrows(
                CompactMLException.class,
                () -> new TrainJob(SharedSpark.context("names-3", names("task=regression", "network.outputs=1")))
                        .run());
        assertTrue(regression.getMessage().contains("'data.train.label-mapping'"), regression.getMessage());
        CompactMLException idx = assertThrows(
                CompactMLException.class,
                () -> new TrainJob(SharedSpark.context("names-3", "data.train.label-mapping=auto")).run());
        assertTrue(idx.getMessage().contains("index for format = idx"), idx.getMessage());
        // too many classes for the network
        CompactMLException outputs = assertThrows(
                CompactMLException.class,
                () -> new TrainJob(SharedSpark.context("names-3", names("network.outputs=4"))).run());
        assertTrue(
                outputs.getMessage().contains("'network.outputs' has value '4'; allowed: 3, the number of distinct"),
                outputs.getMessage());
    }
}
