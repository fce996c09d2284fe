package io.compactml.jobs.quant;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.Variant;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code quantize}: builds the int8 model from a calibration's {@code quant_params} and evaluates, in one
 * distributed pass over {@code data.eval}, the float model, int8 weights only, simulated int8 serving, and
 * (with {@code quantize.sensitivity}) each layer quantized alone. With {@code quantize.max-accuracy-drop}, the
 * most sensitive layers move to float one at a time until the budget holds; every step is a row of
 * {@code quant_decisions}. Writes {@code models.root/<model>-int8/<run-id>/model.int8}, evaluation rows for
 * {@code <model>-int8} (technique int8) and {@code <model>-int8-weights} (int8-weight-only), and
 * {@code layer_sensitivity}.
 */
public final class QuantizeJob {
    public static final String FILE = "model.int8";

    private final JobContext ctx;

    public QuantizeJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The chosen int8 model and what was measured. */
    public record Result(String uri, byte[] int8, String sourceSha256, String method, String calibrationRun,
                         Set<Integer> floatLayers, Map<String, Map<String, Double>> variants,
                         Map<String, Double> chosen, long floatSize) {
    }

    /** The run id whose calibration {@code quantize} uses: {@code quantize.calibration-run}, else this run's. */
    public static String calibrationRun(JobContext ctx) {
        String run = ctx.config().getString("quantize.calibration-run");
        return run.isEmpty() ? ctx.runId() : run;
    }

    /** Where {@code quantize} writes the int8 model of this run: {@code models.root/<model>-int8/<run>/model.int8}. */
    public static String int8Uri(JobContext ctx) {
        return ctx.modelFileUri(ctx.config().getString("model.name") + "-int8", ctx.runId(), FILE);
    }

    public Result run() {
        return quantize(LoadedModel.read(ctx));
    }

    public Result quantize(LoadedModel model) {
        CompactConfig c = ctx.config();
        MultiLayerNetwork net = model.net();
        String sha = model.sha256();
        byte[] zip = model.zip();
        String method = c.getString("quantize.method");
        String calibrationRun = calibrationRun(ctx);
        QuantParams[] acts = activationParams(sha, calibrationRun, method, net.getnLayers() + 1);
        boolean perChannel = c.getString("quantize.weights").equals("per-channel");
        Set<Integer> floatLayers = new TreeSet<>(c.getIntList("quantize.float-layers"));
        Task task = ModelShapes.task(net);
        double budget = c.getDouble("quantize.max-accuracy-drop");
        if (budget >= 0 && task != Task.CLASSIFICATION) {
            throw Errors.badConfigValue("quantize.max-accuracy-drop", budget, "-1 for a regression model");
        }

        DatasetSpec spec = DatasetSpec.from(c, "eval");
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, 1);
        int outputs = ModelShapes.outputs(net);
        JavaRDD<DataSet> batches = SparkData.minibatches(data, inputs, outputs, task,
                c.getInt("evaluate.batch-size")).persist(StorageLevel.MEMORY_ONLY());
        try {
            Int8Model full = Int8Model.quantize(net, acts, perChannel, floatLayers);
            byte[] fullBytes = full.toBytes();
            List<Variant> variants = new ArrayList<>(List.of(new Variant("float", Variant.Kind.FLOAT, zip),
                    new Variant("int8-weights", Variant.Kind.INT8_WEIGHTS, fullBytes),
                    new Variant("int8", Variant.Kind.INT8, fullBytes)));
            List<Integer> weightLayers = weightLayers(net, floatLayers);
            if (c.getBoolean("quantize.sensitivity")) {
                for (int layer : weightLayers) {
                    variants.add(new Variant("layer " + layer, Variant.Kind.INT8,
                            Int8Model.quantize(net, aloneAt(acts, layer), perChannel, othersThan(net, layer)).toBytes()));
                }
            }
            Map<String, Map<String, Double>> results = evaluate(variants, batches, task, outputs);
            Timestamp now = Timestamp.from(Instant.now());
            String metric = task == Task.CLASSIFICATION ? "accuracy" : "mse";
            double reference = results.get("float").get(metric);
            writeSensitivity(sha, method, net, weightLayers, results, reference, metric, now);

            byte[] chosenBytes = fullBytes;
            Map<String, Double> chosen = results.get("int8");
            List<Row> decisions = new ArrayList<>();
            decisions.add(decision(sha, 0, floatLayers, chosen, reference, budget, "all supported layers int8", now));
            if (budget >= 0) {
                List<Integer> bySensitivity = new ArrayList<>(weightLayers);
                // most sensitive first; without sensitivity trials, from the output backwards
                bySensitivity.sort(Comparator.comparingDouble((Integer l) -> {
                    Map<String, Double> trial = results.get("layer " + l);
                    return trial == null ? -l : -(reference - trial.getOrDefault(metric, reference));
                }));
                for (int layer : bySensitivity) {
                    if (drop(reference, chosen) <= budget) {
                        break;
                    }
                    floatLayers.add(layer);
                    Int8Model mixed = Int8Model.quantize(net, acts, perChannel, floatLayers);
                    chosenBytes = mixed.toBytes();
                    chosen = evaluate(List.of(new Variant("float", Variant.Kind.FLOAT, zip),
                            new Variant("int8", Variant.Kind.INT8, chosenBytes)), batches, task, outputs).get("int8");
                    decisions.add(decision(sha, decisions.size(), floatLayers, chosen, reference, budget,
                            "layer " + layer + " to float (most sensitive left)", now));
                }
                if (drop(reference, chosen) > budget) {
                    throw new CompactMLException(CompactMLException.Kind.RUNTIME, String.format(java.util.Locale.ROOT,
                            "No mix of int8 and float layers meets quantize.max-accuracy-drop = %s points (best: %.3f"
                            + " points with layers %s in float). Raise the budget or try another quantize.method.",
                            budget, drop(reference, chosen), floatLayers));
                }
            }
            String where = "run_id = " + Tables.literal(ctx.runId()) + " AND model_sha256 = " + Tables.literal(sha);
            ctx.tables().replace(Tables.Table.QUANT_DECISIONS, decisions, where);

            String name = c.getString("model.name");
            String out = int8Uri(ctx);
            ModelIO.writeBytes(out, chosenBytes, ctx.hadoop());
            Map<String, Double> int8Metrics = withSize(chosen, chosenBytes.length, net.numParams());
            EvaluateJob.writeMetrics(ctx, name + "-int8", ModelIO.sha256(chosenBytes), "int8", spec.name(), int8Metrics);
            EvaluateJob.writeMetrics(ctx, name + "-int8-weights", ModelIO.sha256(fullBytes), "int8-weight-only",
                    spec.name(), withSize(results.get("int8-weights"), fullBytes.length, net.numParams()));
            return new Result(out, chosenBytes, sha, method, calibrationRun, floatLayers, results, int8Metrics,
                    zip.length);
        } finally {
            batches.unpersist(false);
        }
    }

    private Map<String, Map<String, Double>> evaluate(List<Variant> variants, JavaRDD<DataSet> batches, Task task,
                                                      int outputs) {
        return VariantEvaluator.evaluate(ctx.jsc(), variants, batches, task, outputs,
                Math.min(ctx.config().getInt("evaluate.top-k"), outputs));
    }

    private static double drop(double reference, Map<String, Double> m) {
        return 100 * (reference - m.get("accuracy"));
    }

    private static Map<String, Double> withSize(Map<String, Double> m, long bytes, long params) {
        Map<String, Double> out = new LinkedHashMap<>(m);
        out.put("size_bytes", (double) bytes);
        out.put("param_count", (double) params);
        return out;
    }

    private QuantParams[] activationParams(String sha, String run, String method, int tensors) {
        QuantParams[] acts = new QuantParams[tensors];
        if (ctx.tables().exists(Tables.Table.QUANT_PARAMS)) {
            List<Row> rows = ctx.tables().read(Tables.Table.QUANT_PARAMS)
                    .filter("run_id = " + Tables.literal(run) + " AND model_sha256 = " + Tables.literal(sha)
                            + " AND kind = 'activation' AND method = " + Tables.literal(method))
                    .select("tensor_index", "scale", "zero_point", "qmin", "qmax").collectAsList();
            for (Row r : rows) {
                acts[r.getInt(0)] = new QuantParams(r.getFloat(1), r.getInt(2), r.getInt(3), r.getInt(4));
            }
        }
        for (QuantParams a : acts) {
            if (a == null) {
                throw new CompactMLException(CompactMLException.Kind.USAGE, "No '" + method + "' calibration of"
                        + " model " + sha.substring(0, 12) + " under run id '" + run + "' in quant_params. Run"
                        + " `compactml calibrate --run-id " + run + "` (with calibrate.methods including '" + method
                        + "') first, or set quantize.calibration-run.");
            }
        }
        return acts;
    }

    private static List<Integer> weightLayers(MultiLayerNetwork net, Set<Integer> floatLayers) {
        List<Integer> layers = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (net.getLayer(i).getParam("W") != null && !floatLayers.contains(i)) {
                layers.add(i);
            }
        }
        return layers;
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

    private void writeSensitivity(String sha, String method, MultiLayerNetwork net, List<Integer> layers,
                                  Map<String, Map<String, Double>> results, double reference, String metric,
                                  Timestamp now) {
        List<String> names = ActivationObserver.tensorNames(net);
        List<Row> rows = new ArrayList<>();
        for (int layer : layers) {
            Map<String, Double> m = results.get("layer " + layer);
            if (m == null) {
                continue;
            }
            Double acc = m.get("accuracy");
            rows.add(RowFactory.create(ctx.runId(), sha, method, layer, names.get(layer + 1), acc,
                    acc == null ? null : 100 * (reference - acc), m.get("sqnr_db"), now));
        }
        if (!rows.isEmpty()) {
            ctx.tables().replace(Tables.Table.LAYER_SENSITIVITY, rows,
                    "run_id = " + Tables.literal(ctx.runId()) + " AND model_sha256 = " + Tables.literal(sha));
        }
    }

    private Row decision(String sha, int step, Set<Integer> floatLayers, Map<String, Double> m, double reference,
                         double budget, String what, Timestamp now) {
        Double drop = m.get("accuracy") == null ? null : drop(reference, m);
        return RowFactory.create(ctx.runId(), sha, step, new ArrayList<>(floatLayers), m.get("accuracy"), drop,
                budget < 0 || drop == null ? null : drop <= budget, what, now);
    }
}
