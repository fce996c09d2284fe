package io.compactml.jobs.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Train a small MLP on a slice of Fashion-MNIST, evaluate it, publish it; then rerun the same run id. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainEvaluatePublishTest {
    private JobContext ctx;
    private TrainJob.Result trained;

    @BeforeAll
    void train() {
        ctx = SharedSpark.context(
                "tep-1",
                "data.train.limit=3000",
                "data.eval.limit=1000",
                "train.epochs=3",
                "network.hidden=[64]",
                "train.batch-size=64",
                "train.averaging-frequency=4");
        trained = new TrainJob(ctx).run();
    }

    @Test
    void trainingRecordsOneHistoryRowPerEpochAndSavesTheModel() {
        assertEquals(3, trained.history().size());
        assertTrue(Files.exists(Path.of(trained.modelUri())), trained.modelUri());
        List<Row> rows =
                ctx.tables().read(Table.TRAINING_HISTORY).orderBy("epoch").collectAsList();
        assertEquals(3, rows.size());
        assertEquals(3000L, rows.get(0).getLong(rows.get(0).fieldIndex("examples")));
        double firstLoss = rows.get(0).getDouble(rows.get(0).fieldIndex("val_loss"));
        double lastLoss = rows.get(2).getDouble(rows.get(2).fieldIndex("val_loss"));
        assertTrue(lastLoss < firstLoss, "validation loss falls: " + firstLoss + " -> " + lastLoss);
    }

    @Test
    void evaluationIsGoodEnoughAndIdempotent() {
        EvaluateJob.Result r = new EvaluateJob(ctx).run();
        // 3 epochs on 3,000 images: a 784-64-10 MLP reaches ~0.75-0.8; chance is 0.1
        assertTrue(r.metrics().get("accuracy") > 0.65, "accuracy " + r.metrics().get("accuracy"));
        assertEquals(1000.0, r.metrics().get("examples"));
        assertEquals(
                784 * 64 + 64 + 64 * 10 + 10, r.metrics().get("param_count").intValue());
        assertTrue(r.metrics().get("top5_accuracy") >= r.metrics().get("accuracy"));
        assertTrue(r.metrics().get("latency_single_p50_ms") > 0);
        long rows = ctx.tables().read(Table.EVALUATIONS).count();
        new EvaluateJob(ctx).run();
        assertEquals(rows, ctx.tables().read(Table.EVALUATIONS).count(), "a rerun of the run id replaces its rows");
        assertEquals(
                1,
                ctx.tables()
                        .read(Table.EVALUATIONS)
                        .select("created_at")
                        .distinct()
                        .count());
    }

    @Test
    void publishWritesAVerifiableArtifactOnce() {
        new EvaluateJob(ctx).run();
        ArtifactStore.Published first = new PublishJob(ctx).run();
        assertFalse(first.alreadyPresent());
        Manifest m =
                new ArtifactStore(ctx.config().getString("artifacts.root"), ctx.hadoop()).verify("fmnist-mlp", "tep-1");
        assertEquals(trained.modelSha256(), m.sourceModelSha256());
        assertEquals(trained.modelSha256(), m.files().get(0).sha256());
        assertTrue(m.metrics().get("accuracy") > 0.65);
        ArtifactStore.Published again = new PublishJob(ctx).run();
        assertTrue(again.alreadyPresent());
        assertEquals(
                1,
                ctx.tables().read(Table.ARTIFACTS).filter("version = 'tep-1'").count());

        // verify: the same 1,000 test images give exactly the manifest's accuracy; a slice is within tolerance
        VerifyJob.Result v = new VerifyJob(ctx).run();
        assertEquals(m.metrics().get("accuracy"), v.metrics().get("accuracy"), 1e-12);
        JobContext quick = JobContext.of(
                ctx.spark(), ctx.config().with("data.eval.limit", 500).with("verify.tolerance", 10.0), ctx.runId());
        assertEquals(500.0, new VerifyJob(quick).run().metrics().get("examples"));
    }

    @Test
    void verifyRefusesATamperedArtifact() throws Exception {
        JobContext other = JobContext.of(
                ctx.spark(),
                ctx.config().with("publish.version", "tamper").with("verify.version", "tamper"),
                ctx.runId());
        new EvaluateJob(other).run();
        ArtifactStore.Published p = new PublishJob(other).run();
        Path file = Path.of(p.dir(), ModelFormat.DL4J_ZIP.fileName());
        byte[] original = Files.readAllBytes(file);
        byte[] tampered = original.clone();
        tampered[tampered.length / 2] ^= 1;
        Files.write(file, tampered);
        try {
            CompactMLException e = assertThrows(CompactMLException.class, () -> new VerifyJob(other).run());
            assertEquals(1, e.exitCode());
            assertTrue(e.getMessage().contains("tampered or damaged"), e.getMessage());
        } finally {
            Files.write(file, original);
        }
        CompactMLException none = assertThrows(
                CompactMLException.class,
                () -> new VerifyJob(JobContext.of(
                                ctx.spark(), ctx.config().with("verify.model", "nothing-here"), ctx.runId()))
                        .run());
        assertEquals(2, none.exitCode());
        assertTrue(none.getMessage().contains("Nothing of nothing-here is published"), none.getMessage());
    }
}
