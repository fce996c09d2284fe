package io.compactml.jobs.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.ImportanceSettings;
import io.compactml.common.prune.PruneSettings;
import io.compactml.common.prune.Pruning;
import io.compactml.common.prune.SparseModel;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.publish.VerifyJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Train a small MLP (784-64-32-10) on a slice of Fashion-MNIST, compute its importance on Spark, prune it every
 * way {@code prune} can, and publish the sparse model.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PruneJobTest {
    private static final long WEIGHTS = 784 * 64 + 64 * 32 + 32 * 10;

    private JobContext ctx;
    private LoadedModel model;
    private ImportanceJob.Result importance;

    @BeforeAll
    void trainAndScore() {
        ctx = SharedSpark.context(
                "p-1",
                "data.train.limit=2000",
                "data.eval.limit=1000",
                "train.epochs=2",
                "network.hidden=[64, 32]",
                "train.batch-size=64",
                "train.averaging-frequency=4",
                "train.validate=false",
                "importance.batch-size=100",
                "prune.fine-tune-epochs=1");
        TrainJob.Result trained = new TrainJob(ctx).run();
        model = trained.model("fmnist-mlp");
        importance = new ImportanceJob(ctx).compute(model, ImportanceSettings.from(ctx.config()));
    }

    private JobContext with(String key, Object value, Object... more) {
        CompactConfig c = ctx.config().with(key, value);
        for (int i = 0; i < more.length; i += 2) {
            c = c.with((String) more[i], more[i + 1]);
        }
        return JobContext.of(ctx.spark(), c, ctx.runId());
    }

    @Test
    void importanceIsStoredPerTensorAndDoesNotDependOnThePartitioning() {
        assertEquals(2000, importance.examples());
        assertEquals(20, importance.batches());
        List<Row> rows = ctx.tables()
                .read(Table.PARAM_IMPORTANCE)
                .filter("run_id = 'p-1'")
                .orderBy("criterion", "layer")
                .collectAsList();
        assertEquals(9, rows.size(), "3 criteria x 3 weight tensors");
        Row fisher0 = rows.get(0);
        assertEquals("fisher", fisher0.getString(fisher0.fieldIndex("criterion")));
        assertEquals(List.of(784, 64), fisher0.getList(fisher0.fieldIndex("shape")));
        assertEquals(
                784 * 64, fisher0.<Float>getList(fisher0.fieldIndex("scores")).size());
        double overlap = fisher0.getDouble(fisher0.fieldIndex("half_overlap"));
        assertTrue(overlap > 0.5 && overlap <= 1.0, "pruned sets of the two halves overlap " + overlap);
        // magnitude is |w|: one weight checked by hand
        Row magnitude0 = rows.get(3);
        float w = model.net().getLayer(0).getParam("W").getFloat(3, 5);
        assertEquals(
                Math.abs(w),
                magnitude0.<Float>getList(magnitude0.fieldIndex("scores")).get(3 * 64 + 5),
                0f);

        // the same data in 1 and in 3 partitions: the same minibatches, so the same sums up to their order
        for (int parts : new int[] {1, 3}) {
            JobContext split = with("data.train.partitions", parts, "importance.criteria", List.of("taylor", "fisher"));
            ImportanceJob.Result other =
                    new ImportanceJob(split).compute(model, ImportanceSettings.from(split.config()));
            assertEquals(20, other.batches());
            for (Criterion c : List.of(Criterion.TAYLOR, Criterion.FISHER)) {
                float[][] a = importance.scores().get(c);
                float[][] b = other.scores().get(c);
                for (int t = 0; t < a.length; t++) {
                    for (int k = 0; k < a[t].length; k++) {
                        assertEquals(
                                a[t][k],
                                b[t][k],
                                1e-6f * Math.abs(a[t][k]) + 1e-30f,
                                c + " tensor " + t + " weight " + k + " in " + parts + " partitions");
                    }
                }
            }
        }
    }

    @Test
    void unstructuredPruningIsExactAndTheMasksHoldThroughFineTuning() {
        JobContext taylor = with("prune.criterion", "taylor", "prune.sparsity", 0.8);
        PruneJob.Result r = prune(taylor);
        // exactly round(0.8 * n) zeros over the three weight tensors, after an epoch of fine-tuning
        assertEquals(Math.round(0.8 * WEIGHTS), zeros(r.net()));
        double baseline = new EvaluateJob(ctx).quality(model.net(), "baseline").get("accuracy");
        assertTrue(r.metrics().get("accuracy") > baseline - 0.05, r.metrics() + " vs dense " + baseline);
        assertEquals(r.sparse().length, r.metrics().get("size_bytes"), 0.0);
        assertTrue(model.zip().length / (double) r.sparse().length > 3, "sparse " + r.sparse().length);

        List<Row> sparsity = ctx.tables()
                .read(Table.SPARSITY)
                .filter("run_id = 'p-1' AND layer = -1")
                .collectAsList();
        assertEquals(1, sparsity.size());
        assertEquals(0.8, sparsity.get(0).getDouble(sparsity.get(0).fieldIndex("actual_sparsity")), 1e-5);
        List<Row> history = ctx.tables()
                .read(Table.TRAINING_HISTORY)
                .filter("run_id = 'p-1' AND model_name = 'fmnist-mlp-pruned'")
                .collectAsList();
        assertEquals(1, history.size(), "one fine-tuning epoch");

        // as `compactml publish --set publish.model=pruned` does it
        ArtifactStore.Published p = new PublishJob(
                        with("prune.criterion", "taylor", "prune.sparsity", 0.8, "publish.model", "pruned"))
                .run();
        Manifest m = new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop())
                .verify("fmnist-mlp-pruned", "p-1");
        assertEquals("compactml-sparse", m.format());
        assertEquals(r.metrics().get("accuracy"), m.metrics().get("accuracy"), 1e-12);
        assertTrue(
                m.data().get("pruning").contains("criterion taylor, sparsity 0.8"),
                m.data().toString());
        assertEquals("p-1", p.manifest().version());
        // loaded as a server would (SparseModel), it scores what the manifest says on the same test images
        VerifyJob.Result v = new VerifyJob(with("verify.model", "fmnist-mlp-pruned")).run();
        assertEquals(m.metrics().get("accuracy"), v.metrics().get("accuracy"), 1e-12);
    }

    @Test
    void aScheduleRaisesTheSparsityLayerByLayerAndExcludedLayersKeepTheirWeights() {
        JobContext scheduled = with(
                "prune.scope",
                "layer",
                "prune.sparsity",
                0.6,
                "prune.initial-sparsity",
                0.3,
                "prune.schedule-steps",
                2,
                "prune.fine-tune-epochs",
                2,
                "prune.exclude-layers",
                List.of("layer2"));
        PruneJob.Result r = prune(scheduled);
        MultiLayerNetwork net = r.net();
        assertEquals(Math.round(0.6 * 784 * 64), zeros(net.getLayer(0).getParam("W")));
        assertEquals(Math.round(0.6 * 64 * 32), zeros(net.getLayer(1).getParam("W")));
        assertEquals(0, zeros(net.getLayer(2).getParam("W")), "the excluded output layer");
        List<Row> rows = scheduled
                .tables()
                .read(Table.SPARSITY)
                .filter("run_id = 'p-1' AND layer = 2")
                .collectAsList();
        assertTrue(rows.get(0).getBoolean(rows.get(0).fieldIndex("excluded")));
    }

    @Test
    void structuredPruningRemovesHalfTheUnitsOfEveryHiddenLayer() {
        PruneJob.Result r = prune(with("prune.structure", "units", "prune.sparsity", 0.5, "prune.fine-tune-epochs", 0));
        assertEquals(784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10, r.net().numParams());
        List<Row> rows = ctx.tables()
                .read(Table.SPARSITY)
                .filter("run_id = 'p-1' AND layer >= 0")
                .orderBy("layer")
                .collectAsList();
        assertEquals(
                List.of(32, 16, 10),
                rows.stream().map(x -> x.getInt(x.fieldIndex("units_after"))).toList());
        assertEquals(
                List.of(64, 32, 10),
                rows.stream().map(x -> x.getInt(x.fieldIndex("units_before"))).toList());
        double oneShot = r.metrics().get("accuracy_one_shot");
        assertEquals(oneShot, r.metrics().get("accuracy"), 1e-12, "no fine-tuning: the one-shot model ships");
        assertTrue(oneShot > 0.3, "half the units by summed |w| still classifies: " + oneShot);
    }

    @Test
    void entropyScoresEveryHiddenChannelAlikeInAnyPartitioningAndRanksStructuredPruning() {
        // the source with neuron 7 of the first hidden layer dead: its weights 0 and its bias -1 before the ReLU
        MultiLayerNetwork dead = model.net().clone();
        dead.getLayer(0).getParam("W").getColumn(7).assign(0);
        dead.getLayer(0).getParam("b").putScalar(7, -1.0);
        LoadedModel deadModel = LoadedModel.of("fmnist-mlp", "mem:dead", ModelIO.toBytes(dead));
        float[][] first = null;
        // 1, 2 and 3 partitions, and without labels (entropy reads none): the same histograms, the same bits
        for (Object[] variant : new Object[][] {{1, "labels"}, {2, "labels"}, {3, "labels"}, {2, ""}}) {
            CompactConfig c = ctx.config()
                    .with("data.train.partitions", variant[0])
                    .with("importance.criteria", List.of("entropy"));
            if (((String) variant[1]).isEmpty()) {
                c = c.with("data.train.labels-uri", "");
            }
            JobContext split = JobContext.of(ctx.spark(), c, "p-entropy");
            ImportanceJob.Result r =
                    new ImportanceJob(split).compute(deadModel, ImportanceSettings.from(split.config()));
            assertEquals(2000, r.examples());
            assertEquals(20, r.batches());
            assertArrayEquals(new int[] {0, 1}, r.scoredLayers().get(Criterion.ENTROPY), "the hidden layers");
            float[][] scores = r.scores().get(Criterion.ENTROPY);
            if (first == null) {
                first = scores;
            }
            for (int t = 0; t < scores.length; t++) {
                assertArrayEquals(first[t], scores[t], 0f, "layer " + t + ", " + variant[0] + " partitions");
            }
        }
        assertEquals(64, first[0].length);
        assertEquals(32, first[1].length);
        assertEquals(0f, first[0][7], 0f, "a dead neuron carries no information");
        long informative = 0;
        for (float[] layer : first) {
            for (float bits : layer) {
                assertTrue(bits >= 0 && bits <= 6, "entropy over 64 bins: " + bits);
                informative += bits > 1 ? 1 : 0;
            }
        }
        // the trained neurons vary over the data (histograms that lost their counts on the way from the
        // executors would score every channel 0)
        assertTrue(informative > 0.75 * (64 + 32), informative + " of 96 channels carry more than 1 bit");
        List<Row> rows = ctx.tables()
                .read(Table.PARAM_IMPORTANCE)
                .filter("run_id = 'p-entropy'")
                .orderBy("layer")
                .collectAsList();
        assertEquals(2, rows.size(), "one row per hidden layer");
        Row r0 = rows.get(0);
        assertEquals("entropy", r0.getString(r0.fieldIndex("criterion")));
        assertEquals("channels", r0.getString(r0.fieldIndex("tensor")));
        assertEquals(List.of(64), r0.getList(r0.fieldIndex("shape")));
        assertEquals(2000L, r0.getLong(r0.fieldIndex("examples")));
        assertEquals(0f, r0.<Float>getList(r0.fieldIndex("scores")).get(7), 0f);
        double overlap = r0.getDouble(r0.fieldIndex("half_overlap"));
        assertTrue(overlap > 0.5 && overlap <= 1.0, "channels chosen from the two halves overlap " + overlap);

        // a quarter of the channels of each hidden layer removed by entropy: the dead neuron is among them
        JobContext byEntropy = JobContext.of(
                ctx.spark(),
                ctx.config()
                        .with("prune.structure", "channels")
                        .with("prune.criterion", "entropy")
                        .with("prune.target-sparsity", 0.25)
                        .with("prune.fine-tune-epochs", 0),
                "p-entropy");
        PruneJob.Result pruned = new PruneJob(byEntropy).prune(deadModel, PruneSettings.from(byEntropy.config()));
        assertEquals(784 * 48 + 48 + 48 * 24 + 24 + 24 * 10 + 10, pruned.net().numParams());
        INDArray w0 = pruned.net().getLayer(0).getParam("W");
        for (int u = 0; u < 48; u++) {
            assertTrue(w0.getColumn(u).amaxNumber().floatValue() > 0, "kept neuron " + u + " is not the dead one");
        }
    }

    @Test
    void badSettingsAreRefusedWithWhatToDo() {
        CompactMLException layer =
                assertThrows(CompactMLException.class, () -> prune(with("prune.exclude-layers", List.of("dense_7"))));
        assertEquals(2, layer.exitCode());
        assertTrue(layer.getMessage().contains("no layer 'dense_7'"), layer.getMessage());

        CompactMLException noScores = assertThrows(
                CompactMLException.class,
                () -> prune(with("prune.criterion", "fisher", "prune.importance-run", "none")));
        assertEquals(2, noScores.exitCode());
        assertTrue(noScores.getMessage().contains("compactml importance --run-id none"), noScores.getMessage());

        JobContext unlabeled = with("data.train.labels-uri", "");
        CompactMLException noLabels = assertThrows(
                CompactMLException.class,
                () -> new ImportanceJob(unlabeled).compute(model, ImportanceSettings.from(unlabeled.config())));
        assertEquals(2, noLabels.exitCode());
        assertTrue(noLabels.getMessage().contains("has no labels"), noLabels.getMessage());

        CompactMLException entropy =
                assertThrows(CompactMLException.class, () -> prune(with("prune.criterion", "entropy")));
        assertEquals(2, entropy.exitCode());
        assertTrue(
                entropy.getMessage().contains("scores whole channels")
                        && entropy.getMessage().contains("prune.structure = channels"),
                entropy.getMessage());

        // a model whose only weights are its output layer's has no channels to score
        MultiLayerNetwork linear = new MultiLayerNetwork(
                NetworkSpec.from(ctx.config().with("network.hidden", List.of())).build(784));
        linear.init();
        JobContext entropyOnly = with("importance.criteria", List.of("entropy"));
        CompactMLException noHidden = assertThrows(
                CompactMLException.class,
                () -> new ImportanceJob(entropyOnly)
                        .compute(
                                LoadedModel.of("linear", "mem:linear", ModelIO.toBytes(linear)),
                                ImportanceSettings.from(entropyOnly.config())));
        assertEquals(2, noHidden.exitCode());
        assertTrue(noHidden.getMessage().contains("has none"), noHidden.getMessage());

        CompactMLException steps = assertThrows(CompactMLException.class, () -> prune(with("prune.schedule-steps", 3)));
        assertEquals(2, steps.exitCode());
        assertTrue(steps.getMessage().contains("prune.fine-tune-epochs"), steps.getMessage());

        CompactMLException full = assertThrows(CompactMLException.class, () -> with("prune.sparsity", 1.0));
        assertEquals(2, full.exitCode());
        assertTrue(full.getMessage().contains("prune.sparsity"), full.getMessage());
    }

    @Test
    void theSparseFileRestoresTheNetworkItStores() {
        PruneJob.Result r = prune(with("prune.fine-tune-epochs", 0, "prune.sparsity", 0.9));
        MultiLayerNetwork back = SparseModel.fromBytes(r.sparse(), "mem").toNetwork();
        assertEquals(r.net().params(), back.params());
        assertEquals(Math.round(0.9 * WEIGHTS), zeros(back));
        assertTrue(
                model.zip().length / (double) r.sparse().length >= 8,
                "90 % sparse: " + model.zip().length + " dense vs " + r.sparse().length + " sparse bytes");

        JobContext int8 = with("prune.fine-tune-epochs", 0, "prune.sparsity", 0.9, "prune.int8", true);
        PruneJob.Result q = prune(int8);
        // >= 20x needs a larger network (SparseModelTest, bench/pruning.sh): in this 52k-weight one the DL4J
        // configuration JSON the file carries is a fifth of it
        assertTrue(
                model.zip().length / (double) q.sparse().length >= 15,
                "90 % sparse, int8: " + model.zip().length + " dense vs " + q.sparse().length + " sparse bytes");
        // int8 values are within half a quantization step of the float ones; no pruned weight comes back
        float[] exact = r.net().params().data().asFloat();
        float[] approx = q.net().params().data().asFloat();
        float maxAbs = r.net().params().amaxNumber().floatValue();
        for (int k = 0; k < exact.length; k++) {
            assertEquals(exact[k], approx[k], maxAbs / 127 / 2 + 1e-7f, "parameter " + k);
            assertTrue(exact[k] != 0f || approx[k] == 0f, "parameter " + k + " was pruned");
        }
        assertEquals(
                "pruned-int8",
                int8.tables()
                        .read(Table.EVALUATIONS)
                        .filter("model_name = 'fmnist-mlp-pruned' AND metric = 'accuracy'")
                        .first()
                        .getString(3));
    }

    /** {@code prune} of the model with the context's settings, as the job reads them. */
    private PruneJob.Result prune(JobContext jc) {
        return new PruneJob(jc).prune(model, PruneSettings.from(jc.config()));
    }

    private static long zeros(MultiLayerNetwork net) {
        long z = 0;
        for (int layer : Pruning.weightLayers(net)) {
            z += zeros(net.getLayer(layer).getParam("W"));
        }
        return z;
    }

    private static long zeros(INDArray w) {
        return Math.round(Pruning.sparsity(w) * w.length());
    }
}
