package io.compactml.jobs.quant;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.eval.Variant;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.quant.AccuracyBudget;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.MixedPrecision;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.QuantizeSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.tables.LayerSensitivityRow;
import io.compactml.jobs.tables.QuantDecisionRow;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.train.TrainJob;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntUnaryOperator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code quantize}: builds the int8 model from a calibration's {@code quant_params} and evaluates, in one
 * distributed pass over {@code data.eval}, the float model, int8 weights only, simulated int8 serving (QDQ), and
 * (with {@code quantize.sensitivity}) each layer quantized alone. With {@code quantize.max-accuracy-drop}, the
 * most sensitive layers move to float one at a time until the budget holds ({@link AccuracyBudget}); every step
 * is a row of {@code quant_decisions}. Writes {@code models.root/<model>-int8/<run-id>/model.int8}, evaluation
 * rows for {@code <model>-int8} (technique int8) and {@code <model>-int8-weights} (int8-weight-only), and
 * {@code layer_sensitivity}.
 */
public final class QuantizeJob {
    private final JobContext ctx;

    public QuantizeJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /**
     * The chosen int8 model and what was measured.
     *
     * @param file          the int8 model file
     * @param variants      metrics per variant evaluated side by side (float, int8-weights, int8, layer i)
     * @param int8Metrics   the metrics recorded for the chosen int8 model
     * @param floatZipBytes the size of the float model's zip
     */
    public record Result(
            String name,
            String uri,
            byte[] file,
            String sourceSha256,
            QuantizeSettings settings,
            String calibrationRun,
            Set<Integer> floatLayers,
            Map<String, Map<String, Double>> variants,
            Map<String, Double> int8Metrics,
            long floatZipBytes) {}

    public Result run() {
        return quantize(LoadedModel.read(ctx), QuantizeSettings.from(ctx.config()));
    }

    public Result quantize(LoadedModel model, QuantizeSettings settings) {
        MultiLayerNetwork net = model.net();
        Task task = ModelShapes.task(net);
        if (settings.maxAccuracyDrop() >= 0 && task != Task.CLASSIFICATION) {
            throw Errors.badConfigValue(
                    "quantize.max-accuracy-drop", settings.maxAccuracyDrop(), "-1 for a regression model");
        }
        Int8Model.checkGroupSize(net, settings.weightGroupSize(), Set.copyOf(settings.floatLayers()));
        String calibrationRun = ctx.runIdOr(settings.calibrationRun());
        return quantize(model, settings, activationParams(model, settings, calibrationRun), calibrationRun);
    }

    /**
     * {@link #quantize(LoadedModel, QuantizeSettings)} with activation parameters {@code acts} (the calibration of
     * run {@code calibrationRun}, of this model or of the one it was fine-tuned from).
     */
    Result quantize(LoadedModel model, QuantizeSettings settings, QuantParams[] acts, String calibrationRun) {
        MultiLayerNetwork net = model.net();
        Task task = ModelShapes.task(net);
        Trials trials = new Trials(model, acts, settings, evaluationBatches(net));
        try {
            Int8Model full = trials.int8(Set.copyOf(settings.floatLayers()));
            byte[] fullBytes = full.toBytes();
            List<Integer> weightLayers = weightLayers(net, settings.floatLayers());
            Map<String, Map<String, Double>> results = trials.sideBySide(full, weightLayers);
            String metric = task.metric();
            double reference = results.get("float").get(metric);
            Timestamp now = Timestamp.from(Instant.now());
            writeSensitivity(model, settings, weightLayers, results, reference, now);

            AccuracyBudget.Outcome<Trial> chosen = AccuracyBudget.apply(
                    reference,
                    settings.maxAccuracyDrop(),
                    Set.copyOf(settings.floatLayers()),
                    evaluated(new Trial(fullBytes, results.get("int8"))),
                    full.layerBits(),
                    AccuracyBudget.rank(weightLayers, aloneAccuracy(results, weightLayers, metric), reference),
                    trials::mixed);
            if (settings.mixed()) {
                chosen = lowerBits(trials, chosen, results, weightLayers, reference);
            }
            writeDecisions(model.sha256(), chosen.steps(), now);
            return record(model, settings, calibrationRun, chosen, results, fullBytes);
        } finally {
            trials.batches().unpersist(false);
        }
    }

    /**
     * Per-layer bit widths below {@code quantize.weight-bits} on top of the float fallback's choice
     * ({@link MixedPrecision}), from the trials of each layer alone at each lower width.
     */
    private AccuracyBudget.Outcome<Trial> lowerBits(
            Trials trials,
            AccuracyBudget.Outcome<Trial> fallback,
            Map<String, Map<String, Double>> results,
            List<Integer> weightLayers,
            double reference) {
        QuantizeSettings settings = trials.settings;
        List<MixedPrecision.Move> moves = new ArrayList<>();
        for (int layer : weightLayers) {
            for (int bits : settings.mixedBits()) {
                moves.add(new MixedPrecision.Move(
                        layer,
                        bits,
                        results.get(bitsTrial(layer, bits)).get("accuracy"),
                        trials.model.net().getLayer(layer).getParam("W").length()));
            }
        }
        // the fallback's last step records the widths of the model it chose (no need to quantize it again)
        int[] startBits = fallback.steps().get(fallback.steps().size() - 1).layerBits().stream()
                .mapToInt(Integer::intValue)
                .toArray();
        MixedPrecision.Outcome<Trial> lowered = MixedPrecision.lower(
                reference,
                settings.maxAccuracyDrop(),
                fallback,
                startBits,
                moves,
                bits -> trials.mixed(fallback.floatLayers(), bits));
        Console.out("quantize: weight bits per layer %s", java.util.Arrays.toString(lowered.layerBits()));
        return new AccuracyBudget.Outcome<>(lowered.chosen(), fallback.floatLayers(), lowered.steps());
    }

    /** The name of the trial with only {@code layer}'s weights at {@code bits}, the others as configured. */
    private static String bitsTrial(int layer, int bits) {
        return "layer " + layer + " at " + bits + " bits";
    }

    /** An int8 model file and its metrics. */
    private record Trial(byte[] file, Map<String, Double> metrics) {}

    /** The runs of the int8 variants of one model over the same cached evaluation minibatches. */
    private final class Trials {
        private final LoadedModel model;
        private final QuantParams[] acts;
        private final QuantizeSettings settings;
        private final JavaRDD<DataSet> batches;
        private final ServingRuntime runtime =
                EvaluateSettings.from(ctx.config()).runtime();
        private final Variant reference;

        Trials(LoadedModel model, QuantParams[] acts, QuantizeSettings settings, JavaRDD<DataSet> batches) {
            this.model = model;
            this.acts = acts;
            this.settings = settings;
            this.batches = batches;
            this.reference =
                    ModelFormat.DL4J_ZIP.serving(model.zip(), "float", runtime).withName("float");
        }

        /** {@code m} as the runtime runs it: QDQ, or with {@code weightsOnly} its dequantized weights in float. */
        private Variant variant(String name, Int8Model m, boolean weightsOnly) {
            if (runtime == ServingRuntime.ONNXRUNTIME) {
                return new Variant(
                        name, Variant.Kind.ONNX, weightsOnly ? OnnxExport.of(m.toNetwork()) : OnnxExport.of(m));
            }
            return new Variant(name, weightsOnly ? Variant.Kind.WEIGHT_ONLY : Variant.Kind.QDQ, m.toBytes());
        }

        JavaRDD<DataSet> batches() {
            return batches;
        }

        Int8Model int8(Set<Integer> floatLayers) {
            return int8(floatLayers, layer -> settings.weightBits(), acts);
        }

        /** The model with {@code floatLayers} in float and the weights of layer i at {@code bits[i]} bits. */
        Int8Model int8(Set<Integer> floatLayers, int[] bits) {
            return int8(floatLayers, layer -> bits[layer], acts);
        }

        private Int8Model int8(Set<Integer> floatLayers, IntUnaryOperator bits, QuantParams[] activations) {
            return Int8Model.quantize(
                    model.net(),
                    activations,
                    settings.weights().perChannel(),
                    settings.weightGroupSize(),
                    floatLayers,
                    bits);
        }

        /** Float, int8 weights only, simulated int8, and each layer alone in int8, in one pass. */
        Map<String, Map<String, Double>> sideBySide(Int8Model full, List<Integer> weightLayers) {
            List<Variant> variants = new ArrayList<>(
                    List.of(reference, variant("int8-weights", full, true), variant("int8", full, false)));
            if (settings.sensitivity()) {
                for (int layer : weightLayers) {
                    variants.add(variant(
                            "layer " + layer,
                            int8(othersThan(model.net(), layer), l -> settings.weightBits(), aloneAt(acts, layer)),
                            false));
                }
            }
            if (settings.mixed()) {
                int[] bits = full.layerBits();
                for (int layer : weightLayers) {
                    for (int b : settings.mixedBits()) {
                        int[] one = bits.clone();
                        one[layer] = b;
                        variants.add(
                                variant(bitsTrial(layer, b), int8(Set.copyOf(settings.floatLayers()), one), false));
                    }
                }
            }
            return evaluate(variants);
        }

        /** The int8 model with {@code floatLayers} in float, evaluated (what the accuracy budget tries). */
        AccuracyBudget.Evaluated<Trial> mixed(Set<Integer> floatLayers) {
            return evaluated(int8(floatLayers));
        }

        /** The model with {@code floatLayers} in float and {@code bits} per layer, evaluated (mixed widths). */
        AccuracyBudget.Evaluated<Trial> mixed(Set<Integer> floatLayers, int[] bits) {
            return evaluated(int8(floatLayers, bits));
        }

        private AccuracyBudget.Evaluated<Trial> evaluated(Int8Model m) {
            return QuantizeJob.evaluated(new Trial(
                    m.toBytes(),
                    evaluate(List.of(reference, variant("int8", m, false))).get("int8")));
        }

        private Map<String, Map<String, Double>> evaluate(List<Variant> variants) {
            int outputs = ModelShapes.outputs(model.net());
            return VariantEvaluator.evaluate(
                    ctx.jsc(),
                    variants,
                    batches,
                    ModelShapes.task(model.net()),
                    outputs,
                    EvaluateSettings.from(ctx.config()).topK(outputs));
        }
    }

    private static AccuracyBudget.Evaluated<Trial> evaluated(Trial t) {
        return new AccuracyBudget.Evaluated<>(t, t.metrics().getOrDefault("accuracy", Double.NaN));
    }

    private JavaRDD<DataSet> evaluationBatches(MultiLayerNetwork net) {
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), "eval"), net, 1);
        return SparkData.minibatches(
                        data,
                        inputs,
                        ModelShapes.outputs(net),
                        ModelShapes.task(net),
                        EvaluateSettings.from(ctx.config()).batchSize())
                .persist(StorageLevel.MEMORY_ONLY());
    }

    /** Writes the chosen int8 model and the evaluation rows of it and of its int8-weights-only form. */
    private Result record(
            LoadedModel model,
            QuantizeSettings settings,
            String calibrationRun,
            AccuracyBudget.Outcome<Trial> chosen,
            Map<String, Map<String, Double>> results,
            byte[] fullBytes) {
        byte[] bytes = chosen.chosen().model().file();
        String name = ModelKind.INT8.nameFor(model.name());
        String uri = ctx.modelUri(ModelKind.INT8, model.name());
        ModelFiles.write(uri, ModelFormat.INT8, bytes, ctx.hadoop());
        long params = model.net().numParams();
        // what ships, evaluated as it is served (with its latency), plus its SQNR against the float model
        Map<String, Double> int8Metrics = new EvaluateJob(ctx)
                .evaluate(
                        uri,
                        ModelFormat.INT8,
                        bytes,
                        new EvaluateJob.Subject(name, ModelIO.sha256(bytes), bytes.length, "int8"),
                        Map.of("sqnr_db", chosen.chosen().model().metrics().get("sqnr_db")))
                .metrics();
        String dataset = DatasetSpec.from(ctx.config(), "eval").name();
        EvaluateJob.record(
                ctx,
                new EvaluateJob.Subject(
                        name + "-weights", ModelIO.sha256(fullBytes), fullBytes.length, "int8-weight-only"),
                dataset,
                withSize(results.get("int8-weights"), fullBytes.length, params));
        return new Result(
                name,
                uri,
                bytes,
                model.sha256(),
                settings,
                calibrationRun,
                chosen.floatLayers(),
                results,
                int8Metrics,
                model.zip().length);
    }

    private static Map<String, Double> withSize(Map<String, Double> m, long bytes, long params) {
        Map<String, Double> out = new LinkedHashMap<>(m);
        out.put("size_bytes", (double) bytes);
        out.put("param_count", (double) params);
        return out;
    }

    /** The activation parameters of {@code settings.method()} that run {@code run} stored for this model. */
    /**
     * The activation parameters of {@code model}'s {@code settings.method()} calibration under {@code run}.
     *
     * @throws io.compactml.common.CompactMLException (usage) when that calibration is not in {@code quant_params}
     */
    QuantParams[] activationParams(LoadedModel model, QuantizeSettings settings, String run) {
        QuantParams[] acts = new QuantParams[model.net().getnLayers() + 1];
        String method = settings.method().id();
        for (QuantParamRow r : ctx.tables()
                .rows(
                        Table.QUANT_PARAMS,
                        Scope.run(run)
                                .and("model_sha256", model.sha256())
                                .and("kind", "activation")
                                .and("method", method),
                        QuantParamRow.class)) {
            acts[r.tensorIndex()] = new QuantParams(r.scale(), r.zeroPoint(), r.qmin(), r.qmax());
        }
        for (QuantParams a : acts) {
            if (a == null) {
                throw Errors.missingUpstream(
                        "'" + method + "' calibration of model "
                                + model.sha256().substring(0, 12),
                        run,
                        "quant_params",
                        "calibrate --run-id " + run + "` (with calibrate.methods including '" + method + "')",
                        "quantize.calibration-run");
            }
        }
        return acts;
    }

    static List<Integer> weightLayers(MultiLayerNetwork net, List<Integer> floatLayers) {
        List<Integer> layers = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (net.getLayer(i).getParam("W") != null && !floatLayers.contains(i)) {
                layers.add(i);
            }
        }
        return layers;
    }

    private static Map<Integer, Double> aloneAccuracy(
            Map<String, Map<String, Double>> results, List<Integer> layers, String metric) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (int layer : layers) {
            Map<String, Double> trial = results.get("layer " + layer);
            if (trial != null && trial.containsKey(metric)) {
                out.put(layer, trial.get(metric));
            }
        }
        return out;
    }

    /** Activation parameters of one layer's input and output only. */
    private static QuantParams[] aloneAt(QuantParams[] acts, int layer) {
        QuantParams[] only = new QuantParams[acts.length];
        only[layer] = acts[layer];
        only[layer + 1] = acts[layer + 1];
        return only;
    }

    private static Set<Integer> othersThan(MultiLayerNetwork net, int layer) {
        Set<Integer> others = new TreeSet<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (i != layer) {
                others.add(i);
            }
        }
        return others;
    }

    private void writeSensitivity(
            LoadedModel model,
            QuantizeSettings settings,
            List<Integer> layers,
            Map<String, Map<String, Double>> results,
            double reference,
            Timestamp now) {
        List<String> names = ActivationObserver.tensorNames(model.net());
        List<LayerSensitivityRow> rows = new ArrayList<>();
        for (int layer : layers) {
            List<Integer> widths = new ArrayList<>(List.of(settings.weightBits()));
            widths.addAll(settings.mixedBits());
            for (int bits : widths) {
                Map<String, Double> m =
                        results.get(bits == settings.weightBits() ? "layer " + layer : bitsTrial(layer, bits));
                if (m == null) {
                    continue;
                }
                Double acc = m.get("accuracy");
                rows.add(new LayerSensitivityRow(
                        ctx.runId(),
                        model.sha256(),
                        settings.method().id(),
                        layer,
                        bits,
                        names.get(layer + 1),
                        acc,
                        acc == null ? null : 100 * (reference - acc),
                        m.get("sqnr_db"),
                        now));
            }
        }
        if (!rows.isEmpty()) {
            ctx.tables()
                    .replace(
                            Table.LAYER_SENSITIVITY,
                            rows,
                            Scope.run(ctx.runId()).and("model_sha256", model.sha256()));
        }
    }

    private void writeDecisions(String sha, List<AccuracyBudget.Step> steps, Timestamp now) {
        List<QuantDecisionRow> rows = new ArrayList<>();
        for (AccuracyBudget.Step s : steps) {
            rows.add(new QuantDecisionRow(
                    ctx.runId(),
                    sha,
                    s.step(),
                    s.floatLayers().stream().mapToInt(Integer::intValue).toArray(),
                    s.layerBits().stream().mapToInt(Integer::intValue).toArray(),
                    TrainJob.nullIfNaN(s.accuracy()),
                    TrainJob.nullIfNaN(s.dropPoints()),
                    s.withinBudget(),
                    s.decision(),
                    now));
        }
        ctx.tables().replace(Table.QUANT_DECISIONS, rows, Scope.run(ctx.runId()).and("model_sha256", sha));
    }
}
