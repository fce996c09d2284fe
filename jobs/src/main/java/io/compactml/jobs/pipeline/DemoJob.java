package io.compactml.jobs.pipeline;

import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.NetworkSpec;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.train.TrainJob;
import java.util.List;
import java.util.Map;

/**
 * {@code demo}: a small compression plan over Fashion-MNIST on one run id: install Fashion-MNIST when it is missing
 * and the machine allows ({@link DatasetSetup}), train a baseline, run the plan of
 * {@code pipeline.candidates} on it (int8, pruning, distillation and their chains, every candidate evaluated on
 * the test set and recorded in {@code candidates}), publish the chosen candidate and the baseline, then print
 * where everything is.
 */
public final class DemoJob {
    private final JobContext ctx;

    public DemoJob(JobContext ctx) {
        this.ctx = ctx;
    }

    public void run() {
        long t0 = System.nanoTime();
        DatasetSetup.ensure(List.of(
                DatasetSpec.from(ctx.config(), "train"),
                DatasetSpec.from(ctx.config(), "eval"),
                DatasetSpec.from(ctx.config(), "calibration")));
        TrainJob.Result trained = new TrainJob(ctx).run();
        TrainJob.Epoch last = trained.history().get(trained.history().size() - 1);
        PipelineJob.Result plan = new PipelineJob(ctx).run();
        ArtifactStore.Published baseline = new PublishJob(ctx)
                .publish(
                        ctx.locations().modelName(),
                        ModelKind.FLOAT,
                        trained.modelZip(),
                        trained.modelSha256(),
                        Map.of());
        double seconds = (System.nanoTime() - t0) / 1e9;
        Console.out("");
        Console.out("demo run %s finished in %.1f s", ctx.runId(), seconds);
        Console.out(
                "  model      %s (%s), trained at %,.0f samples/s on %d workers (last epoch)",
                ctx.locations().modelName(),
                NetworkSpec.from(ctx.config()).type().id(),
                last.samplesPerSec(),
                trained.workers());
        plan.chosen()
                .ifPresent(o -> Console.out(
                        "  chosen     %s (%s)",
                        o.candidate().name(), o.verdict().decision()));
        if (plan.chosen().isEmpty()) {
            Console.out("  chosen     none: no candidate meets the constraints");
        }
        Console.out(
                "  tables     %s  (bin/compactml sql \"SELECT * FROM candidates WHERE run_id = '%s'\")",
                ctx.locations().tablesRoot(), ctx.runId());
        for (ArtifactStore.Published p : plan.published().stream().toList()) {
            Console.out("  artifact   %s%s", p.dir(), p.alreadyPresent() ? " (already published)" : "");
        }
        Console.out("  artifact   %s%s", baseline.dir(), baseline.alreadyPresent() ? " (already published)" : "");
    }
}
