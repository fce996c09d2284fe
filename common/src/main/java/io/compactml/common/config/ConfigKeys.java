package io.compactml.common.config;

import static io.compactml.common.config.ConfigKey.bool;
import static io.compactml.common.config.ConfigKey.decimal;
import static io.compactml.common.config.ConfigKey.intList;
import static io.compactml.common.config.ConfigKey.integer;
import static io.compactml.common.config.ConfigKey.map;
import static io.compactml.common.config.ConfigKey.name;
import static io.compactml.common.config.ConfigKey.oneOf;
import static io.compactml.common.config.ConfigKey.oneOrMoreOf;
import static io.compactml.common.config.ConfigKey.string;
import static io.compactml.common.config.ConfigKey.stringList;

import io.compactml.common.artifact.ModelKind;
import io.compactml.common.artifact.PublishLayout;
import io.compactml.common.data.DataFormat;
import io.compactml.common.data.LabelMapping;
import io.compactml.common.data.ScalingMethod;
import io.compactml.common.data.Task;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.NetworkType;
import io.compactml.common.monitor.MonitorSource;
import io.compactml.common.prune.Criterion;
import io.compactml.common.prune.PruneScope;
import io.compactml.common.prune.PruneStructure;
import io.compactml.common.quant.ActivationType;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.WeightGranularity;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every config key CompactML knows, with its default and documentation. Unknown keys are rejected. */
public final class ConfigKeys {
    private ConfigKeys() {}

    /** The data sets of {@code data.<split>.*}. */
    public static final List<String> DATA_SPLITS = List.of("train", "eval", "calibration", "monitor");

    public static final String FMNIST = "/usr/share/datasets/fashion-mnist/";

    private static final List<ConfigKey> KEYS = new ArrayList<>();

    static {
        add(string(
                "spark.master",
                "local[*]",
                "Spark master URL; ignored when spark-submit (or spark.master in the environment) sets one."));
        add(string("spark.app-name", "compactml", "Spark application name (the job name is appended)."));
        add(map("spark.conf", "Extra Spark and Hadoop settings, passed as is: \"spark.hadoop.fs.s3a.endpoint\" = ..."));

        add(string("tables.root", "./warehouse", "Root of the Delta tables (any Hadoop path: file:, s3a:, hdfs:)."));
        add(string(
                "models.root",
                "./warehouse/models",
                "Where trained models are kept, as <root>/<model>/<run-id>/model.zip."));
        add(string("artifacts.root", "./artifacts", "Where published artifacts go, as <root>/<model>/<version>/."));

        add(name("model.name", "fmnist-mlp", "Name of the model a job trains, evaluates or publishes."));
        add(string(
                "model.path", "", "Model zip to evaluate or publish; empty means the one trained under this run id."));
        add(oneOf(
                "task",
                Task.CLASSIFICATION,
                "classification: softmax + cross-entropy, labels are class indices; regression: identity + MSE."));

        for (String split : DATA_SPLITS) {
            boolean train = split.equals("train") || split.equals("calibration");
            String prefix = "data." + split + ".";
            add(string(
                    prefix + "name",
                    train ? "fashion-mnist-train" : "fashion-mnist-test",
                    "Name of the " + split + " data set, as recorded in the tables."));
            add(string(
                    prefix + "uri",
                    FMNIST + (train ? "train" : "t10k") + "-images-idx3-ubyte.gz",
                    "Location of the " + split + " data (file, directory or any Hadoop path)."));
            add(
                    oneOf(
                            prefix + "format",
                            DataFormat.IDX,
                            "idx: MNIST-style IDX files (gzipped or raw); parquet or csv: a table with features and label columns."));
            add(string(
                    prefix + "labels-uri",
                    FMNIST + (train ? "train" : "t10k") + "-labels-idx1-ubyte.gz",
                    "For idx: the labels file."));
            add(string(
                    prefix + "features",
                    "features",
                    "Features column (array or ML vector), or a glob such as 'px*' over numbered columns."));
            add(string(prefix + "label", "label", "Label column: a class index, or a float target for regression."));
            add(oneOf(
                    prefix + "label-mapping",
                    LabelMapping.INDEX,
                    "index: labels are class indices 0..k-1 (or regression targets); auto: labels are class names"
                            + " (text or numbers), the sorted distinct labels of data.train become the model's classes,"
                            + " stored in it and in its manifest and served as the 'label' output (use the same on"
                            + " every labeled split)."));
            add(oneOf(
                    prefix + "scaling",
                    ScalingMethod.DIVIDE,
                    "none: features as stored; divide: features / divisor; standardize: (x - mean) / std per feature,"
                            + " minmax: (x - min) / (max - min) per feature, with the statistics of data.train that"
                            + " train stores in the model (the model then takes raw rows; use the same on every"
                            + " split)."));
            add(decimal(prefix + "divisor", 255.0, 1e-12, Double.MAX_VALUE, "Divisor for scaling = divide."));
            add(integer(prefix + "limit", 0, 0, Integer.MAX_VALUE, "Use only the first N examples (0 = all)."));
            add(integer(
                    prefix + "partitions", 0, 0, 100_000, "Spark partitions of the data (0 = default parallelism)."));
        }

        add(oneOf("network.type", NetworkType.MLP, "Architecture trained by `train`."));
        add(intList("network.hidden", List.of(512, 256), 1, "mlp: sizes of the hidden ReLU layers."));
        add(intList(
                "network.conv-filters",
                List.of(32, 64),
                1,
                "cnn: filters of each 3x3 ReLU convolution; each is followed by 2x2 max-pooling."));
        add(integer("network.dense", 128, 1, 1_000_000, "cnn: size of the dense ReLU layer after the convolutions."));
        add(intList("network.input-shape", List.of(28, 28, 1), 1, "cnn: input height, width, channels."));
        add(integer(
                "network.outputs",
                10,
                1,
                1_000_000,
                "Outputs of the network: the number of classes, or of regression targets."));
        add(decimal("network.dropout", 0.0, 0.0, 0.95, "Dropout probability on hidden layers (0 = off)."));

        add(integer("train.epochs", 10, 1, 10_000, "Passes over the training data."));
        add(integer("train.batch-size", 128, 1, 1_000_000, "Minibatch size per worker."));
        add(decimal("train.learning-rate", 1e-3, 1e-9, 10.0, "Adam learning rate."));
        add(decimal("train.l2", 0.0, 0.0, 1.0, "L2 weight decay (0 = off)."));
        add(integer("train.seed", 42, 0, Integer.MAX_VALUE, "Seed for weights and shuffling."));
        add(integer(
                "train.averaging-frequency",
                8,
                1,
                10_000,
                "Parameter averaging: minibatches each worker fits between averaging steps."));
        add(integer("train.workers", 0, 0, 10_000, "Parallel DL4J workers (0 = Spark's default parallelism)."));
        add(bool(
                "train.validate",
                true,
                "Evaluate on data.eval after each epoch (loss and accuracy in training_history)."));

        add(integer("evaluate.top-k", 5, 1, 1000, "k of the top-k accuracy."));
        add(integer("evaluate.batch-size", 512, 1, 1_000_000, "Inference batch size."));
        add(integer(
                "evaluate.latency-runs",
                200,
                0,
                1_000_000,
                "Timed single-sample inferences for the latency metrics (0 = skip)."));
        add(integer("evaluate.latency-batch-size", 256, 1, 1_000_000, "Batch size of the batch-latency metric."));
        add(oneOf(
                "evaluate.runtime",
                ServingRuntime.ONNXRUNTIME,
                "What runs the models measured: onnxruntime (the model's ONNX form, as served) or dl4j (its own"
                        + " format; int8 simulated)."));
        add(integer(
                "evaluate.latency-threads",
                1,
                1,
                256,
                "Threads of the latency measurement (ONNX Runtime's intra-op threads; DL4J follows OMP_NUM_THREADS)."));

        add(oneOrMoreOf(
                "calibrate.methods",
                CalibrationMethod.class,
                "Calibration methods whose parameters are computed and stored."));
        add(decimal(
                "calibrate.percentile",
                99.99,
                50.0,
                100.0,
                "percentile method: the share of values kept, in %, clipping both tails."));
        add(
                decimal(
                        "calibrate.max-nonfinite-fraction",
                        0.001,
                        0.0,
                        1.0,
                        "Fail when more than this fraction of a tensor's values are NaN or infinite (they are always excluded)."));
        add(decimal(
                "calibrate.min-coverage",
                0.99,
                0.0,
                1.0,
                "Warn when a method's int8 range keeps less than this share of a tensor's calibration values"
                        + " unsaturated (the share is quant_params.coverage)."));
        add(integer("calibrate.batch-size", 512, 1, 1_000_000, "Inference batch size during calibration."));
        add(oneOf(
                "calibrate.runtime",
                ServingRuntime.ONNXRUNTIME,
                "What runs the calibration pass: onnxruntime (the float model's ONNX form, every activation an extra"
                        + " output: the graph that is served) or dl4j."));
        add(oneOf(
                "quantize.activations",
                ActivationType.INT8,
                "Activation type: int8 in [-128, 127] (TFLite) or uint8 in [0, 255]."));
        add(oneOf(
                "quantize.weights",
                WeightGranularity.PER_CHANNEL,
                "Weight scales: one per output channel (TFLite default) or one per tensor; symmetric in [-127, 127]."));
        add(integer(
                "quantize.weight-bits",
                8,
                1,
                8,
                "Bits of the quantized weights: 8, 4 or 2 (symmetric in [-(2^(b-1)-1), 2^(b-1)-1], scales by the least"
                        + " squared error for 4 and 2) or 1 (binary: sign times mean |w| per channel); activations stay"
                        + " 8-bit. The file packs 4-bit weights two to a byte, 2-bit four, 1-bit eight."));
        add(integer(
                "quantize.weight-group-size",
                0,
                0,
                1 << 20,
                "Inputs per weight scale of each output channel of a dense layer (group-wise scales, as GPTQ and AWQ"
                        + " at 4 bits; must divide every quantized dense layer's inputs; needs per-channel weights);"
                        + " convolution kernels keep one scale per filter. 0 = one scale per output channel."));

        add(integer(
                "qat.epochs",
                2,
                1,
                10_000,
                "qat: epochs of fine-tuning over data.train with the weights fake-quantized at quantize.weight-bits."));
        add(decimal(
                "qat.learning-rate",
                1e-4,
                1e-9,
                10.0,
                "qat: Adam's learning rate while fine-tuning (a tenth of training's: the weights start trained)."));
        add(bool(
                "qat.fake-quantize-activations",
                true,
                "qat: the hidden layers' outputs fake-quantized at 8 bits with the calibrated ranges (fixed), gradients"
                        + " passed straight through inside them; false: only the weights."));
        add(oneOf(
                "quantize.method",
                CalibrationMethod.PERCENTILE,
                "Calibration method whose activation parameters the int8 model uses."));
        add(name("quantize.calibration-run", "", "Run id of the calibration to use; empty means this run id."));
        add(intList("quantize.float-layers", List.of(), 0, "Layer indices kept in float (always, before any budget)."));
        add(decimal(
                "quantize.max-accuracy-drop",
                -1.0,
                -1.0,
                100.0,
                "Accuracy budget in points: keep the most sensitive layers in float until the int8 model is within it"
                        + " (-1 = off)."));
        add(bool("quantize.sensitivity", true, "Measure each layer quantized alone (layer_sensitivity)."));
        add(intList(
                "quantize.mixed-bits",
                List.of(),
                1,
                "Lower weight widths (4, 2, 1) a layer may take under quantize.max-accuracy-drop, chosen greedily"
                        + " per layer from each layer's sensitivity at each width (e.g. [4, 2]; [] = every layer"
                        + " at quantize.weight-bits)."));

        add(oneOrMoreOf(
                "importance.criteria",
                Criterion.class,
                Criterion.weightIds(),
                "Importance scores computed and stored per weight:"
                        + " |w| (no data), |w * dL/dw| averaged over data.train, or the mean of (dL/dw)^2 over"
                        + " data.train; or per channel of the hidden layers: entropy, the Shannon entropy (bits)"
                        + " of its activation over data.train (a forward pass, labels not read;"
                        + " not in the default list)."));
        add(integer(
                "importance.batch-size",
                256,
                1,
                1_000_000,
                "Minibatch whose mean-loss gradient is one sample of the gradient statistics (and the entropy"
                        + " pass's minibatch)."));
        add(decimal(
                "importance.stability-sparsity",
                0.9,
                0.0,
                0.999,
                "Sparsity at which the pruned sets chosen from the even and the odd minibatches are compared."));

        add(oneOf(
                "prune.criterion",
                Criterion.MAGNITUDE,
                "Which importance ranks the weights or channels; taylor, fisher and entropy need `importance` first;"
                        + " entropy scores channels (prune.structure = channels only)."));
        add(name("prune.importance-run", "", "Run id of the importance scores to use; empty means this run id."));
        add(decimal(
                        "prune.target-sparsity",
                        0.9,
                        0.0,
                        0.999,
                        "Target: the fraction of weights pruned (unstructured), or of channels removed per layer (structured).")
                .alias("prune.sparsity"));
        add(oneOf(
                "prune.scope",
                PruneScope.GLOBAL,
                "Unstructured: one threshold over all weight tensors, or the same sparsity in each tensor."));
        add(oneOf(
                "prune.structure",
                PruneStructure.UNSTRUCTURED,
                "unstructured: single weights; channels (formerly units): whole neurons (dense) or filters"
                        + " (convolution), rebuilding a smaller network. The output layer keeps its channels."));
        add(stringList(
                "prune.exclude-layers",
                List.of(),
                "Layers never pruned, by index (\"0\") or DL4J layer name (\"layer0\" when unnamed)."
                        + " Biases are never pruned."));
        add(decimal(
                "prune.initial-sparsity",
                0.0,
                0.0,
                0.999,
                "Polynomial-decay schedule (power 3): the sparsity of the first of prune.schedule-steps steps."));
        add(integer(
                "prune.schedule-steps",
                1,
                1,
                10_000,
                "Steps from prune.initial-sparsity to prune.target-sparsity, one at the start of each fine-tuning epoch"
                        + " (1 = one-shot at the target)."));
        add(integer(
                "prune.fine-tune-epochs",
                2,
                0,
                10_000,
                "Epochs of training on data.train under the masks after pruning (0 = none)."));
        add(integer(
                "prune.fine-tune-steps",
                0,
                0,
                100_000_000,
                "Optimizer steps (minibatches per worker) of fine-tuning instead of prune.fine-tune-epochs, rounded"
                        + " up to whole epochs (0 = use the epochs)."));
        add(integer(
                "prune.patience",
                0,
                0,
                10_000,
                "Early stopping of the fine-tuning: epochs without a better loss on the held-out share of data.train"
                        + " before it stops, the best epoch's weights kept (0 = off)."));
        add(decimal(
                "prune.validation-fraction",
                0.1,
                0.01,
                0.5,
                "Share of data.train held out for early stopping when prune.patience > 0."));
        add(decimal("prune.learning-rate", 5e-4, 1e-9, 10.0, "Adam learning rate of the fine-tuning."));
        add(bool(
                "prune.int8", false, "Store the nonzero weights of the sparse artifact as int8 (per-channel scales)."));

        add(integer(
                        "teacher-outputs.batch-size",
                        512,
                        1,
                        1_000_000,
                        "Teacher inference batch size of `teacher-outputs`.")
                .alias("soft-labels.batch-size"));
        add(oneOf(
                "teacher-outputs.runtime",
                ServingRuntime.ONNXRUNTIME,
                "What runs the teacher in `teacher-outputs`: onnxruntime (the float model's ONNX form, cut at the"
                        + " output layer's logits) or dl4j."));
        add(integer(
                "teacher-outputs.augment.count",
                0,
                0,
                1_000,
                "Augmented copies of every image of data.train that the teacher labels too (0 = none): random shifts"
                        + " and mirror images, regenerated by `distill` from their row id, copy number and seed."));
        add(integer("teacher-outputs.augment.seed", 7, 0, Integer.MAX_VALUE, "Seed of the augmented copies."));
        add(integer(
                "teacher-outputs.augment.max-shift",
                2,
                0,
                1_000,
                "Largest shift of a copy in pixels, each axis and direction (zeros shifted in)."));
        add(
                bool(
                        "teacher-outputs.augment.flip",
                        true,
                        "Whether a copy is mirrored left to right (with probability 1/2): right for clothes, wrong for digits."));
        add(
                name(
                        "distill.teacher-run",
                        "",
                        "Run id of the `teacher-outputs` run whose teacher_outputs a student learns from; empty means this run id."));
        add(oneOf("distill.student.type", NetworkType.MLP, "Architecture of the student."));
        add(intList("distill.student.hidden", List.of(64), 1, "mlp student: sizes of the hidden ReLU layers."));
        add(intList(
                "distill.student.conv-filters", List.of(8, 16), 1, "cnn student: filters of each 3x3 convolution."));
        add(integer("distill.student.dense", 32, 1, 1_000_000, "cnn student: size of the dense layer."));
        add(stringList(
                "distill.settings",
                List.of("1:0.3", "2:0.3", "4:0.7"),
                "Candidates as \"T:alpha\": temperature > 0 and weight of the teacher term in [0, 1]; each trains one"
                        + " student."));
        add(
                bool(
                        "distill.no-kd-baseline",
                        true,
                        "Also train the same student on hard labels only (alpha 0), with the same budget, to measure the gain."));
        add(integer("distill.epochs", 20, 1, 10_000, "Training epochs of every candidate student."));
        add(integer(
                "distill.parallelism",
                2,
                1,
                64,
                "Candidate students trained at once, each its own Spark job group in its own pool of the FAIR"
                        + " scheduler (1 = one after another); each caches its own copy of the minibatches."));
        add(integer(
                "distill.steps",
                0,
                0,
                100_000_000,
                "Optimizer steps (minibatches per worker) of every student instead of distill.epochs, rounded up to"
                        + " whole epochs (0 = use the epochs)."));
        add(integer(
                "distill.patience",
                0,
                0,
                10_000,
                "Early stopping of every student: epochs without a better loss on the held-out share of data.train"
                        + " before it stops, the best epoch's weights kept (0 = off)."));
        add(decimal(
                "distill.validation-fraction",
                0.1,
                0.01,
                0.5,
                "Share of data.train held out for early stopping when distill.patience > 0."));
        add(decimal("distill.learning-rate", 1e-3, 1e-9, 10.0, "Adam learning rate of the students."));

        add(string(
                "verify.model",
                "",
                "Artifact `verify` checks, by model name (e.g. fmnist-mlp-int8); empty means" + " model.name."));
        add(name("verify.version", "", "Version `verify` checks; empty means the one LATEST names."));
        add(decimal(
                "verify.tolerance",
                2.0,
                0.0,
                100.0,
                "Points of accuracy (or MSE) a quick evaluation on fewer"
                        + " examples than the manifest's may differ; on as many examples they must be equal."));

        add(stringList(
                "pipeline.candidates",
                List.of(
                        "int8:percentile",
                        "int8:entropy",
                        "prune:magnitude:0.5",
                        "prune:magnitude:0.9",
                        "prune:magnitude:0.9>int8:percentile",
                        "distill",
                        "distill>int8:percentile"),
                "Candidates of `pipeline`: chains of distill, prune:<criterion>:<sparsity> and int8:<method> joined"
                        + " by '>' (distill first, int8 last)."));
        add(
                decimal(
                        "pipeline.max-accuracy-drop",
                        1.0,
                        -1.0,
                        100.0,
                        "Constraint: points of accuracy a candidate may lose against the source model (0 = none; -1 = no limit)."));
        add(decimal(
                "pipeline.max-mse-increase",
                0.05,
                -1.0,
                1e6,
                "Constraint for regression: relative MSE increase a candidate may have over the source model's"
                        + " (0.05 = 5 %; -1 = no limit)."));
        add(decimal(
                "pipeline.min-r2",
                -1.0,
                -1.0,
                1.0,
                "Constraint for regression: smallest R² of a candidate on data.eval (-1 = no limit)."));
        add(integer(
                "pipeline.max-size-bytes",
                0,
                0,
                Integer.MAX_VALUE,
                "Constraint: largest artifact file in bytes (0 = no limit)."));
        add(
                decimal(
                        "pipeline.max-latency-ms",
                        0.0,
                        0.0,
                        1e6,
                        "Constraint: single-example p50 latency in ms of the network the serving loader builds (0 = no limit)."));
        add(bool("pipeline.publish", true, "Publish the chosen candidate (with publish.version, default the run id)."));

        add(name("report.run", "", "Run id `report` shows (a pipeline or demo run); empty means the run id."));
        add(string(
                "report.dir",
                "./reports",
                "Where `report` writes <run>/index.html and its PNG charts (any Hadoop path)."));

        add(name("publish.version", "", "Artifact version; empty means the run id."));
        add(oneOf(
                "publish.model",
                ModelKind.FLOAT,
                "Which model of the run `publish` ships: the float model, the int8 model `quantize` made, the"
                        + " sparse model `prune` made, or the student `distill` chose."));
        add(oneOf(
                "publish.layout",
                PublishLayout.ARTIFACT,
                "artifact: the artifact (model file, model.onnx, manifest); triton: also its model.onnx in a Triton"
                        + " model repository (config.pbtxt, numbered versions) that Triton and KServe load as it is."));
        add(string(
                "publish.triton-root",
                "",
                "The Triton model repository of publish.layout = triton; empty means <artifacts.root>/triton."));

        add(integer("serve.port", 8080, 0, 65535, "Port `serve` listens on (0: any free port, logged)."));
        add(string("serve.host", "0.0.0.0", "Address `serve` binds (0.0.0.0: every interface, as in a container)."));
        add(integer(
                "serve.max-batch-size",
                32,
                1,
                100_000,
                "Dynamic batching: most rows one ONNX Runtime call gathers from concurrent requests; 1 turns"
                        + " batching off (each request runs on its own, on its HTTP thread)."));
        add(decimal(
                "serve.max-queue-delay-ms",
                0.0,
                0.0,
                10_000.0,
                "Dynamic batching: how long the first request of a batch waits for others to join it (ms); 0, as"
                        + " Triton's default, batches what queued while the previous batch ran."));
        add(integer(
                "serve.max-request-bytes",
                16 << 20,
                1024,
                Integer.MAX_VALUE,
                "Largest request body `serve` reads; a larger one gets 413."));
        add(integer("serve.threads", 2, 1, 1024, "ONNX Runtime intra-op threads of the served model (one session)."));
        add(integer(
                "serve.poll-interval-ms",
                5000,
                50,
                3_600_000,
                "How often `serve` reads <model>/LATEST for a new version to verify and swap in (ms)."));
        add(integer(
                "serve.drain-timeout-ms",
                30_000,
                0,
                3_600_000,
                "On SIGTERM, how long in-flight requests may take to finish before the server exits (ms)."));
        add(decimal(
                "serve.log-fraction",
                0.0,
                0.0,
                1.0,
                "Fraction of requests whose inputs and outputs go to the inference_log table (for `monitor`)."));
        add(string(
                "serve.log-uri",
                "",
                "Where the inference log goes; empty means <tables.root>/inference_log (any Hadoop path)."));
        add(integer(
                "serve.log-flush-rows",
                1000,
                1,
                10_000_000,
                "Rows the inference log gathers before it writes them as one file (also flushed every 10 s)."));
    }

    static {
        add(name("monitor.model", "", "Published model `monitor` checks; empty means model.name."));
        add(name("monitor.version", "", "Its version; empty means the one LATEST names."));
        add(oneOf(
                "monitor.source",
                MonitorSource.INFERENCE_LOG,
                "inference-log: the rows `serve` logged (serve.log-uri) in [monitor.window-start,"
                        + " monitor.window-end); data: the data set data.monitor.*."));
        add(
                string(
                        "monitor.window-start",
                        "",
                        "Start of the inference-log window, an ISO-8601 instant (2026-12-01T00:00:00Z), inclusive; empty: open."));
        add(string("monitor.window-end", "", "End of the inference-log window, exclusive; empty: open."));
        add(name(
                "monitor.reference-run",
                "",
                "Calibration run whose statistics are the reference; empty means the newest of the model's source."));
        add(string(
                "monitor.method",
                "",
                "Calibration method whose clip ranges define saturation; empty means the artifact's quantize.method."));
        add(integer(
                "monitor.quantiles",
                10,
                2,
                1000,
                "Reference quantile bins of PSI and JS (plus below min and above max)."));
        add(decimal("monitor.psi-threshold", 0.25, 0.0, 100.0, "A tensor drifted when its PSI is above this."));
        add(decimal(
                "monitor.js-threshold",
                0.1,
                0.0,
                1.0,
                "A tensor drifted when its Jensen-Shannon distance is above this."));
        add(decimal(
                "monitor.saturation-factor",
                2.0,
                1.0,
                1e6,
                "A tensor drifted when its saturation rate is above factor x the calibration set's + margin."));
        add(decimal(
                "monitor.saturation-margin",
                0.001,
                0.0,
                1.0,
                "The margin of monitor.saturation-factor (a share of values: 0.001 = 0.1 %)."));
        add(decimal(
                "monitor.prediction-psi-threshold",
                0.25,
                0.0,
                100.0,
                "The predictions drifted when the PSI of the predicted-class distribution is above this."));
        add(decimal(
                "monitor.max-accuracy-drop",
                2.0,
                0.0,
                100.0,
                "With labels: accuracy drifted when it is more than this many points below the manifest's (and 3"
                        + " standard errors of the window's accuracy)."));
        add(integer(
                "monitor.reference-limit",
                10_000,
                1,
                Integer.MAX_VALUE,
                "Rows of data.calibration the reference predicted-class distribution is measured on."));
        add(integer(
                "monitor.min-rows", 100, 1, Integer.MAX_VALUE, "A window with fewer rows gets no verdict (exit 0)."));
    }

    private static void add(ConfigKey key) {
        KEYS.add(key);
    }

    /** All keys in documentation order. */
    public static List<ConfigKey> all() {
        return Collections.unmodifiableList(KEYS);
    }

    /** The key {@code oldName} is an older name of, or null. */
    public static ConfigKey byAlias(String oldName) {
        for (ConfigKey k : KEYS) {
            if (k.aliases().contains(oldName)) {
                return k;
            }
        }
        return null;
    }

    /** All keys by name. */
    public static Map<String, ConfigKey> byName() {
        Map<String, ConfigKey> m = new LinkedHashMap<>();
        for (ConfigKey k : KEYS) {
            m.put(k.name(), k);
        }
        return m;
    }
}
