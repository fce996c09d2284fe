package io.compactml.jobs.quant;

import io.compactml.common.Errors;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.FeatureMoments;
import io.compactml.common.data.Task;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxObserver;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.ActivationType;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.WeightQuantizer;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.CalibrationStatsRow;
import io.compactml.jobs.tables.QuantParamRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code calibrate}: one distributed forward pass over {@code data.calibration}; per partition a
 * {@link FloatHistogram} of every activation tensor, tree-reduced exactly (bucket counts add), then per tensor
 * and method a clip range and int8 parameters, and per layer the per-channel weight parameters. Writes
 * {@code calibration_stats} and {@code quant_params}, replacing this run's rows for the model.
 *
 * <p>The same data in any partitioning gives bit-identical parameters: bucket boundaries do not depend on
 * the data, so the merged counts, and everything computed from them, do not depend on the order of merging.
 */
public final class CalibrateJob {
    /** Bins of the uniform histogram stored in {@code calibration_stats}. */
    public static final int STORED_BINS = 2048;

    private final JobContext ctx;

    public CalibrateJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The calibrated tensors and their parameters per method. */
    public record Result(
            String modelSha256, List<String> tensors, FloatHistogram[] histograms, List<QuantParamRow> quantParams) {}

    public Result run() {
        return calibrate(LoadedModel.read(ctx), CalibrationSettings.from(ctx.config()));
    }

    public Result calibrate(LoadedModel model, CalibrationSettings settings) {
        MultiLayerNetwork net = model.net();
        int inputs = ModelShapes.inputs(net);
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "calibration");
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, net, settings.batchSize());
        long t0 = System.nanoTime();
        FloatHistogram[] hists = observe(model, data, settings);
        FloatHistogram in = hists[0];
        Console.out(
                "calibration pass (%s): %,d examples in %.2f s",
                settings.runtime().id(),
                (in.count() + in.nanCount() + in.infCount()) / inputs,
                (System.nanoTime() - t0) / 1e9);
        List<String> names = ActivationObserver.tensorNames(net);
        checkData(spec, names, hists, settings.maxNonfiniteFraction());
        erasedFeatures(model.net(), data, hists[0], settings.batchSize());
        Timestamp now = Timestamp.from(Instant.now());
        List<QuantParamRow> params = new ArrayList<>(activationParams(model, names, hists, settings, now));
        params.addAll(weightParams(model, names, settings, now));
        write(model.sha256(), spec.name(), names, hists, params, now);
        return new Result(model.sha256(), names, hists, params);
    }

    private FloatHistogram[] observe(LoadedModel model, SparkData.Loaded data, CalibrationSettings settings) {
        JavaRDD<DataSet> batches =
                SparkData.featureBatches(data, ModelShapes.inputs(model.net()), settings.batchSize());
        boolean onnx = settings.runtime() == ServingRuntime.ONNXRUNTIME;
        Broadcast<byte[]> shipped = ctx.jsc().broadcast(onnx ? OnnxExport.observing(model.net()) : model.zip());
        try {
            return onnx
                    ? onnxHistograms(batches, shipped, model.net().getnLayers() + 1)
                    : histograms(batches, shipped, model.uri());
        } finally {
            shipped.destroy();
        }
    }

    /**
     * The calibration pass: every partition deserializes the model once, runs its minibatches forward and adds
     * every activation to one histogram per tensor; the partial histograms are tree-reduced (counts add).
     */
    public static FloatHistogram[] histograms(JavaRDD<DataSet> batches, Broadcast<byte[]> model, String uri) {
        JavaRDD<FloatHistogram[]> partials = batches.mapPartitions((Iterator<DataSet> it) -> {
            ActivationObserver observer = new ActivationObserver(ModelIO.fromBytes(model.value(), uri));
            while (it.hasNext()) {
                observer.observe(it.next().getFeatures());
            }
            return Collections.singletonList(observer.histograms()).iterator();
        });
        return partials.treeReduce(ActivationObserver::merge);
    }

    /**
     * The calibration pass in ONNX Runtime: every partition loads {@code observing} (an {@link OnnxExport#observing}
     * model of a network with {@code tensors} activation tensors) once, with one intra-op thread (a task has one
     * core), runs its minibatches and adds every activation to one histogram per tensor; the partial histograms are
     * tree-reduced as in {@link #histograms}.
     */
    public static FloatHistogram[] onnxHistograms(JavaRDD<DataSet> batches, Broadcast<byte[]> observing, int tensors) {
        JavaRDD<FloatHistogram[]> partials = batches.mapPartitions((Iterator<DataSet> it) -> {
            try (OnnxObserver observer = new OnnxObserver(observing.value(), tensors, 1)) {
                while (it.hasNext()) {
                    observer.observe(it.next().getFeatures());
                }
                return Collections.singletonList(observer.histograms()).iterator();
            }
        });
        return partials.treeReduce(ActivationObserver::merge);
    }

    /** Per tensor boundary and method: the clip range the method chooses and the affine parameters for it. */
    private List<QuantParamRow> activationParams(
            LoadedModel model,
            List<String> names,
            FloatHistogram[] hists,
            CalibrationSettings settings,
            Timestamp now) {
        ActivationType type = settings.activations();
        boolean softmaxOut = ModelShapes.task(model.net()) == Task.CLASSIFICATION;
        List<QuantParamRow> rows = new ArrayList<>();
        for (int t = 0; t < hists.length; t++) {
            boolean fixed = softmaxOut && t == hists.length - 1;
            for (CalibrationMethod m : settings.methods()) {
                float[] clip = m.clip(hists[t], settings.percentile());
                QuantParams q = QuantParams.affine(clip[0], clip[1], type.qmin(), type.qmax());
                if (fixed) {
                    // TFLite fixes a softmax output's parameters (scale 1/256, zero point -128 for int8): the
                    // range of a probability is known, and clipping the top probabilities changes the argmax
                    q = new QuantParams(1f / 256, type.qmin(), type.qmin(), type.qmax());
                    clip = new float[] {0f, q.clipMax()};
                }
                double coverage = hists[t].unsaturated(q);
                if (!fixed && coverage < settings.minCoverage()) {
                    warnCoverage(names.get(t), m, q, coverage, settings.minCoverage());
                }
                rows.add(row(
                        model.sha256(),
                        t,
                        names.get(t),
                        "activation",
                        m.id(),
                        "per-tensor",
                        -1,
                        q,
                        clip,
                        coverage,
                        now));
            }
        }
        return rows;
    }

    /** Rows of {@code data.calibration} that the erased-features check looks at (the first ones). */
    static final int FEATURE_SAMPLE_ROWS = 2048;

    /**
     * The input features that int8 erases, with a warning when there are any (the features then span very different
     * ranges): a feature whose whole range
     * over the first {@link #FEATURE_SAMPLE_ROWS} rows is below one int8 step of the input tensor (its range / 255)
     * falls into one or two quantization levels. Not for a model that stores its feature scaling (it quantizes the
     * scaled input, whose features share one range). Features constant in the sample are left out.
     *
     * @return the erased features' indices, in order
     */
    public static List<Integer> erasedFeatures(
            MultiLayerNetwork net, SparkData.Loaded data, FloatHistogram input, int batch) {
        List<Integer> erased = new ArrayList<>();
        if (FeatureScaling.of(net).isPresent() || input.count() == 0) {
            return erased;
        }
        int n = ModelShapes.inputs(net);
        FeatureMoments m = new FeatureMoments(n);
        int rows = 0;
        for (DataSet ds : SparkData.featureBatches(data, n, batch).take(Math.max(1, FEATURE_SAMPLE_ROWS / batch))) {
            for (float[] row : ds.getFeatures().toFloatMatrix()) {
                m.add(row);
                rows++;
            }
        }
        double step = ((double) input.max() - input.min()) / 255;
        double widest = 0;
        for (int j = 0; j < n; j++) {
            double range = m.max(j) - m.min(j);
            widest = Math.max(widest, range);
            if (range > 0 && range < step) {
                erased.add(j);
            }
        }
        if (!erased.isEmpty()) {
            int j = erased.stream()
                    .min(java.util.Comparator.comparingDouble(k -> m.max(k) - m.min(k)))
                    .orElseThrow();
            Console.out(
                    "warning: input: %d of %d features span less than one int8 step of the input tensor (%.4g = its"
                            + " range / 255) over the first %,d rows, e.g. feature %d in [%.4g, %.4g]: int8 erases"
                            + " them. The features' ranges differ by %.1e; train with data.train.scaling = standardize"
                            + " (or minmax): the model then quantizes its standardized input.",
                    erased.size(), n, step, rows, j, m.min(j), m.max(j), widest / (m.max(j) - m.min(j)));
        }
        return erased;
    }

    private static void warnCoverage(String tensor, CalibrationMethod m, QuantParams q, double share, double min) {
        Console.out(
                "warning: %s, method %s: the int8 range [%.5g, %.5g] keeps %.2f %% of the calibration values"
                        + " (calibrate.min-coverage %.2f %%); the rest saturate. Another method (minmax keeps all)"
                        + " or scaled inputs avoid it.",
                tensor, m.id(), q.clipMin(), q.clipMax(), 100 * share, 100 * min);
    }

    /** Per weight layer the symmetric weight parameters, per output channel or per tensor. */
    private List<QuantParamRow> weightParams(
            LoadedModel model, List<String> names, CalibrationSettings settings, Timestamp now) {
        boolean perChannel = settings.weights().perChannel();
        MultiLayerNetwork net = model.net();
        List<QuantParamRow> rows = new ArrayList<>();
        for (int layer = 0; layer < net.getnLayers(); layer++) {
            INDArray w = net.getLayer(layer).getParam("W");
            if (w == null) {
                continue;
            }
            List<QuantParams> ws = WeightQuantizer.params(w, perChannel);
            for (int ch = 0; ch < ws.size(); ch++) {
                QuantParams q = ws.get(ch);
                rows.add(row(
                        model.sha256(),
                        layer + 1,
                        names.get(layer + 1),
                        "weight",
                        "minmax",
                        settings.weights().id(),
                        perChannel ? ch : -1,
                        q,
                        new float[] {q.clipMin(), q.clipMax()},
                        1.0,
                        now));
            }
        }
        return rows;
    }

    private static void checkData(DatasetSpec spec, List<String> names, FloatHistogram[] hists, double maxFraction) {
        if (hists[0].count() + hists[0].nanCount() + hists[0].infCount() == 0) {
            throw Errors.emptyDataset(spec);
        }
        for (int t = 0; t < hists.length; t++) {
            FloatHistogram h = hists[t];
            long bad = h.nanCount() + h.infCount();
            if (bad / (double) (bad + h.count()) > maxFraction) {
                throw Errors.tooManyNonFinite(names.get(t), bad, bad + h.count(), maxFraction, spec.name());
            }
        }
    }

    private QuantParamRow row(
            String sha,
            int tensor,
            String name,
            String kind,
            String method,
            String granularity,
            int channel,
            QuantParams q,
            float[] clip,
            double coverage,
            Timestamp now) {
        return new QuantParamRow(
                ctx.runId(),
                sha,
                tensor,
                name,
                kind,
                method,
                granularity,
                channel,
                q.scale(),
                q.zeroPoint(),
                q.qmin(),
                q.qmax(),
                clip[0],
                clip[1],
                coverage,
                now);
    }

    private void write(
            String sha,
            String dataset,
            List<String> names,
            FloatHistogram[] hists,
            List<QuantParamRow> params,
            Timestamp now) {
        List<CalibrationStatsRow> stats = new ArrayList<>();
        for (int t = 0; t < hists.length; t++) {
            FloatHistogram h = hists[t];
            float lo = h.count() == 0 ? 0f : h.min();
            float hi = h.count() == 0 ? 0f : h.max();
            stats.add(new CalibrationStatsRow(
                    ctx.runId(),
                    sha,
                    dataset,
                    t,
                    names.get(t),
                    h.count(),
                    h.nanCount(),
                    h.infCount(),
                    lo,
                    hi,
                    lo,
                    hi,
                    h.uniform(STORED_BINS, lo, hi),
                    now));
        }
        Scope scope = Scope.run(ctx.runId()).and("model_sha256", sha);
        ctx.tables().replace(Table.CALIBRATION_STATS, stats, scope);
        ctx.tables().replace(Table.QUANT_PARAMS, params, scope);
    }
}
