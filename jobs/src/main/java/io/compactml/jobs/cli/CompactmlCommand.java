package io.compactml.jobs.cli;

import io.compactml.common.prune.Criterion;
import io.compactml.jobs.distill.DistillJob;
import io.compactml.jobs.distill.TeacherOutputsJob;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.monitor.DriftReport;
import io.compactml.jobs.monitor.MonitorJob;
import io.compactml.jobs.pipeline.DemoJob;
import io.compactml.jobs.pipeline.PipelineJob;
import io.compactml.jobs.prune.ImportanceJob;
import io.compactml.jobs.prune.PruneJob;
import io.compactml.jobs.publish.PublishJob;
import io.compactml.jobs.publish.VerifyJob;
import io.compactml.jobs.quant.CalibrateJob;
import io.compactml.jobs.quant.QatJob;
import io.compactml.jobs.quant.QuantizeJob;
import io.compactml.jobs.report.ReportJob;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.JobRunner;
import io.compactml.jobs.tables.DriftRow;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.RunLog;
import io.compactml.jobs.train.TrainJob;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The {@code compactml} command line: one subcommand per job (each runs through {@link JobRunner}, which owns the
 * lifecycle), plus {@code sql}, {@code config} and {@code jobs}. Jobs print their progress; the commands here print
 * each job's summary.
 */
@Command(
        name = "compactml",
        mixinStandardHelpOptions = true,
        versionProvider = CompactmlCommand.Version.class,
        description = "Model compression as Spark jobs.",
        subcommands = {
            CompactmlCommand.Train.class,
            CompactmlCommand.Evaluate.class,
            CompactmlCommand.Calibrate.class,
            CompactmlCommand.Quantize.class,
            CompactmlCommand.Qat.class,
            CompactmlCommand.Importance.class,
            CompactmlCommand.Prune.class,
            CompactmlCommand.TeacherOutputs.class,
            CompactmlCommand.Distill.class,
            CompactmlCommand.Pipeline.class,
            CompactmlCommand.Report.class,
            CompactmlCommand.Publish.class,
            CompactmlCommand.Verify.class,
            CompactmlCommand.Monitor.class,
            CompactmlCommand.Demo.class,
            SqlCommand.class,
            ConfigCommand.class,
            JobsCommand.class
        })
public final class CompactmlCommand {
    /** The class spark-submit and Airflow start: {@code --class io.compactml.jobs.Main}. */
    public static final String MAIN_CLASS = "io.compactml.jobs.Main";

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"compactml " + RunLog.PROJECT_VERSION};
        }
    }

    /** A Spark job: options, the runner's lifecycle, and a body. */
    abstract static class JobCommand implements Callable<Integer> {
        @Mixin
        JobOptions options;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        abstract void run(JobContext ctx);

        @Override
        public Integer call() {
            JobRunner.run(spec.name(), options.load(), options.runId(spec.name()), this::run);
            return 0;
        }
    }

    @Command(
            name = "monitor",
            description = "Drift of a served model's inputs and activations (PSI, JS distance, int8 saturation) and"
                    + " predictions against its calibration statistics (drift); exit 3 on drift.")
    static final class Monitor extends JobCommand {
        private DriftReport report;

        @Override
        void run(JobContext ctx) {
            report = new MonitorJob(ctx).run();
            for (DriftRow r : report.drift()) {
                Console.out(
                        "  %-22s %-16s %10.5g  threshold %10.5g  %s",
                        r.tensor(), r.metric(), r.value(), r.threshold(), r.drifted() ? "DRIFT" : "ok");
            }
            Console.out("%s", report.summary());
        }

        @Override
        public Integer call() {
            super.call();
            return report != null && report.drifted() ? DriftReport.DRIFT_EXIT_CODE : 0;
        }
    }

    @Command(name = "train", description = "Train a baseline network on data.train (DL4J on Spark).")
    static final class Train extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new TrainJob(ctx).run();
        }
    }

    @Command(name = "evaluate", description = "Evaluate a model on data.eval: quality, size, latency.")
    static final class Evaluate extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new EvaluateJob(ctx).run().metrics().forEach((k, v) -> Console.out("  %-32s %s", k, v));
        }
    }

    @Command(
            name = "calibrate",
            description = "Activation statistics over data.calibration and int8 parameters"
                    + " per method (calibration_stats, quant_params).")
    static final class Calibrate extends JobCommand {
        @Override
        void run(JobContext ctx) {
            CalibrateJob.Result r = new CalibrateJob(ctx).run();
            for (QuantParamRow p : r.quantParams()) {
                if (p.kind().equals("activation")) {
                    Console.out(
                            "  %-22s %-10s clip [%.5g, %.5g]  scale %.5g  zero point %d",
                            p.tensor(), p.method(), p.clipMin(), p.clipMax(), p.scale(), p.zeroPoint());
                }
            }
        }
    }

    @Command(
            name = "quantize",
            description = "Int8 model from a calibration: weight-only and simulated int8"
                    + " accuracy, per-layer sensitivity, optional accuracy budget.")
    static final class Quantize extends JobCommand {
        @Override
        void run(JobContext ctx) {
            QuantizeJob.Result r = new QuantizeJob(ctx).run();
            r.variants()
                    .forEach((name, m) -> Console.out(
                            "  %-14s %s  sqnr %.1f dB",
                            name,
                            m.containsKey("accuracy") || m.containsKey("mse")
                                    ? io.compactml.common.data.Task.describe(m)
                                    : "-",
                            m.get("sqnr_db")));
            // the model written: under a budget not the all-quantized "int8" trial above
            Console.out(
                    "  %-14s %s  sqnr %.1f dB",
                    "shipped",
                    io.compactml.common.data.Task.describe(r.int8Metrics()),
                    r.int8Metrics().get("sqnr_db"));
            Console.out(
                    "  int8 model %s: %,d bytes (float %,d: %.2fx smaller), float layers %s",
                    r.uri(),
                    r.file().length,
                    r.floatZipBytes(),
                    r.floatZipBytes() / (double) r.file().length,
                    r.floatLayers());
        }
    }

    @Command(
            name = "qat",
            description = "Quantization-aware training: fine-tunes the model with its weights fake-quantized at"
                    + " quantize.weight-bits (straight-through gradients), then quantizes it as quantize does"
                    + " (<model>-qat, <model>-qat-int8).")
    static final class Qat extends JobCommand {
        @Override
        void run(JobContext ctx) {
            QatJob.Result r = new QatJob(ctx).run();
            QuantizeJob.Result q = r.quantized();
            Console.out(
                    "  %-14s %s",
                    "fine-tuned",
                    io.compactml.common.data.Task.describe(q.variants().get("float")));
            Console.out(
                    "  %-14s %s  sqnr %.1f dB",
                    "quantized",
                    io.compactml.common.data.Task.describe(q.int8Metrics()),
                    q.int8Metrics().get("sqnr_db"));
            Console.out(
                    "  qat model %s: %,d bytes (float %,d: %.2fx smaller), %d-bit weights, fine-tuned float model %s",
                    q.uri(),
                    q.file().length,
                    q.floatZipBytes(),
                    q.floatZipBytes() / (double) q.file().length,
                    q.settings().weightBits(),
                    r.fineTunedUri());
        }
    }

    @Command(
            name = "importance",
            description = "Per-weight importance (magnitude, taylor, fisher) or per-channel activation entropy over"
                    + " data.train, with the stability of the ranking (param_importance).")
    static final class Importance extends JobCommand {
        @Override
        void run(JobContext ctx) {
            ImportanceJob.Result r = new ImportanceJob(ctx).run();
            Console.out(
                    "  %d weight layers, %s; %,d examples in %,d minibatches",
                    r.layers().length,
                    r.scores().keySet().stream().map(Criterion::id).toList(),
                    r.examples(),
                    r.batches());
        }
    }

    @Command(
            name = "prune",
            description = "Pruned model from importance scores: unstructured or whole channels,"
                    + " scheduled, fine-tuned under masks, stored sparse (sparsity, evaluations).")
    static final class Prune extends JobCommand {
        @Override
        void run(JobContext ctx) {
            PruneJob.Result r = new PruneJob(ctx).run();
            Console.out("  pruned model %s: %s", r.uri(), PruneJob.summary(r));
        }
    }

    @Command(
            name = "teacher-outputs",
            aliases = "soft-labels",
            description =
                    "Teacher outputs (logits) over"
                            + " data.train, computed once into teacher_outputs for any number of students (formerly soft-labels).")
    static final class TeacherOutputs extends JobCommand {
        @Override
        void run(JobContext ctx) {
            TeacherOutputsJob.Result r = new TeacherOutputsJob(ctx).run();
            Console.out(
                    "  %,d rows of %d outputs: teacher %s, %s version %s",
                    r.rows(), r.outputs(), r.teacherSha256().substring(0, 12), r.dataset(), r.datasetVersion());
        }
    }

    @Command(
            name = "distill",
            description = "Students trained on Spark from stored teacher outputs, one per"
                    + " distill.settings (T:alpha) plus a hard-label baseline; the best is kept (distill_candidates).")
    static final class Distill extends JobCommand {
        @Override
        void run(JobContext ctx) {
            DistillJob.Result r = new DistillJob(ctx).run();
            Console.out("  %s", DistillJob.summary(r));
        }
    }

    @Command(
            name = "pipeline",
            description = "Run a compression plan (pipeline.candidates: chains of distill, prune"
                    + " and int8) on one model, record every candidate (candidates) and publish the smallest that meets"
                    + " the constraints.")
    static final class Pipeline extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new PipelineJob(ctx).run();
        }
    }

    @Command(
            name = "report",
            description = "An HTML report with PNG charts from the tables of a run (report.run):"
                    + " candidates against size with the Pareto front, training curves, sensitivity, activation histograms"
                    + " with the chosen clips, importance per layer; under report.dir/<run>/.")
    static final class Report extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new ReportJob(ctx).run();
        }
    }

    @Command(name = "publish", description = "Publish an evaluated model as an artifact with a manifest.")
    static final class Publish extends JobCommand {
        @Override
        void run(JobContext ctx) {
            var p = new PublishJob(ctx).run();
            Console.out("published %s%s", p.dir(), p.alreadyPresent() ? " (already present, unchanged)" : "");
        }
    }

    @Command(
            name = "verify",
            description = "Check a published artifact as a server would load it: every checksum,"
                    + " then a quick evaluation against the manifest's metrics.")
    static final class Verify extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new VerifyJob(ctx).run();
        }
    }

    @Command(
            name = "demo",
            description = "Train a Fashion-MNIST baseline, run the compression plan of"
                    + " pipeline.candidates on it, publish the chosen candidate and the baseline.")
    static final class Demo extends JobCommand {
        @Override
        void run(JobContext ctx) {
            new DemoJob(ctx).run();
        }
    }
}
