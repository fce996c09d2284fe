package io.compactml.jobs;

import io.compactml.common.artifact.ArtifactStore;
import java.util.Map;

/**
 * {@code demo}: the whole current pipeline on one run id: train a baseline on Fashion-MNIST, evaluate it on
 * the test set, publish it; calibrate it on the training set, quantize it to int8 and publish that too; compute
 * its parameter importance, prune and fine-tune it, publish the sparse model; store its outputs over the
 * training set, distill students from them, publish the best; then print where everything is and the headline
 * numbers.
 */
public final class DemoJob {
    private final JobContext ctx;

    public DemoJob(JobContext ctx) {
        this.ctx = ctx;
    }

    public void run() {
        long t0 = System.nanoTime();
        TrainJob.Result trained = new TrainJob(ctx).run();
        LoadedModel model = LoadedModel.of(trained.modelUri(), trained.modelZip());
        EvaluateJob.Result eval = new EvaluateJob(ctx).evaluate(model, "baseline");
        PublishJob publisher = new PublishJob(ctx);
        ArtifactStore.Published published = publisher.publish(trained.modelZip(), "baseline", trained.modelSha256());
        new CalibrateJob(ctx).calibrate(model);
        QuantizeJob.Result int8 = new QuantizeJob(ctx).quantize(model);
        ArtifactStore.Published publishedInt8 = publisher.publishInt8(int8.int8(), trained.modelSha256());
        new ImportanceJob(ctx).compute(model);
        PruneJob.Result pruned = new PruneJob(ctx).prune(model);
        ArtifactStore.Published publishedPruned = publisher.publishPruned(pruned.sparse(), trained.modelSha256());
        new SoftLabelsJob(ctx).label(model);
        DistillJob.Result student = new DistillJob(ctx).distill(model);
        ArtifactStore.Published publishedStudent = publisher.publishStudent(student.zip(), trained.modelSha256());
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> m = eval.metrics();
        TrainJob.Epoch last = trained.history().get(trained.history().size() - 1);
        Console.out("");
        Console.out("demo run %s finished in %.1f s", ctx.runId(), seconds);
        Console.out("  model      %s (%s)", ctx.config().getString("model.name"), ctx.config().getString("network.type"));
        Console.out("  accuracy   %.4f on %s (%d examples), top-%d %.4f",
                m.getOrDefault("accuracy", Double.NaN), eval.dataset(), m.getOrDefault("examples", 0.0).longValue(),
                ctx.config().getInt("evaluate.top-k"),
                m.getOrDefault("top" + ctx.config().getInt("evaluate.top-k") + "_accuracy", Double.NaN));
        Console.out("  size       %,d bytes, %,d parameters", m.get("size_bytes").longValue(),
                m.get("param_count").longValue());
        Console.out("  training   %,.0f samples/s on %d workers (last epoch)", last.samplesPerSec(),
                trained.workers());
        if (m.containsKey("latency_single_p50_ms")) {
            Console.out("  latency    %.3f ms single example (p50), %.1f ms per batch of %d",
                    m.get("latency_single_p50_ms"), m.get("latency_batch_p50_ms"), m.get("batch_size").intValue());
        }
        Map<String, Double> w = int8.variants().get("int8-weights");
        Console.out("  int8       accuracy %.4f (weights only %.4f), %,d bytes: %.2fx smaller; %s calibration,"
                        + " float layers %s", int8.chosen().getOrDefault("accuracy", Double.NaN),
                w.getOrDefault("accuracy", Double.NaN), int8.int8().length,
                trained.modelZip().length / (double) int8.int8().length, int8.method(), int8.floatLayers());
        Console.out("  pruned     %s; %s", ctx.config().getString("prune.criterion"), PruneJob.summary(pruned));
        Console.out("  distilled  %s", DistillJob.summary(student));
        Console.out("  tables     %s  (bin/compactml sql \"SELECT * FROM evaluations WHERE run_id = '%s'\")",
                ctx.config().getString("tables.root"), ctx.runId());
        Console.out("  artifact   %s%s", published.dir(), published.alreadyPresent() ? " (already published)" : "");
        for (ArtifactStore.Published p : java.util.List.of(publishedInt8, publishedPruned, publishedStudent)) {
            Console.out("  artifact   %s%s", p.dir(), p.alreadyPresent() ? " (already published)" : "");
        }
    }
}
