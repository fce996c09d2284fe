package io.compactml.jobs.quant;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.CompactMLException;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.quant.ActivationObserver;
import io.compactml.common.quant.CalibrationMethod;
import io.compactml.common.quant.FloatHistogram;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.WeightQuantizer;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
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
    public record Result(String modelSha256, List<String> tensors, FloatHistogram[] histograms,
                         List<Row> quantParams) {
    }

    public Result run() {
        return calibrate(LoadedModel.read(ctx));
    }

    public Result calibrate(LoadedModel model) {
        CompactConfig c = ctx.config();
        MultiLayerNetwork net = model.net();
        String sha = model.sha256();
        String uri = model.uri();
        byte[] zip = model.zip();
        int inputs = ModelShapes.inputs(net);
        DatasetSpec spec = DatasetSpec.from(c, "calibration");
        SparkData.Loaded data = SparkData.loadFor(ctx.spark(), spec, inputs, c.getInt("calibrate.batch-size"));
        long t0 = System.nanoTime();
        FloatHistogram[] hists = observe(zip, uri, data, inputs);
        FloatHistogram in = hists[0];
        Console.out("calibration pass: %,d examples in %.2f s", (in.count() + in.nanCount() + in.infCount()) / inputs,
                (System.nanoTime() - t0) / 1e9);
        List<String> names = ActivationObserver.tensorNames(net);
        checkData(spec, names, hists, c.getDouble("calibrate.max-nonfinite-fraction"));
        List<Row> params = new ArrayList<>();
        Timestamp now = Timestamp.from(Instant.now());
        boolean uint8 = c.getString("quantize.activations").equals("uint8");
        double pct = c.getDouble("calibrate.percentile");
        boolean softmaxOut = ModelShapes.task(net) == io.compactml.common.data.Task.CLASSIFICATION;
        for (int t = 0; t < hists.length; t++) {
            for (String m : c.getStringList("calibrate.methods")) {
                float[] clip = CalibrationMethod.parse(m).clip(hists[t], pct);
                QuantParams q = QuantParams.affine(clip[0], clip[1], uint8 ? 0 : -128, uint8 ? 255 : 127);
                if (softmaxOut && t == hists.length - 1) {
                    // TFLite fixes a softmax output's parameters (scale 1/256, zero point -128 for int8): the
                    // range of a probability is known, and clipping the top probabilities changes the argmax
                    q = new QuantParams(1f / 256, uint8 ? 0 : -128, uint8 ? 0 : -128, uint8 ? 255 : 127);
                    clip = new float[] {0f, q.clipMax()};
                }
                params.add(row(sha, t, names.get(t), "activation", m, "per-tensor", -1, q, clip, now));
            }
        }
        boolean perChannel = c.getString("quantize.weights").equals("per-channel");
        for (int layer = 0; layer < net.getnLayers(); layer++) {
            INDArray w = net.getLayer(layer).getParam("W");
            if (w == null) {
                continue;
            }
            List<QuantParams> ws = WeightQuantizer.params(w, perChannel);
            for (int ch = 0; ch < ws.size(); ch++) {
                QuantParams q = ws.get(ch);
                params.add(row(sha, layer + 1, names.get(layer + 1), "weight", "minmax",
                        perChannel ? "per-channel" : "per-tensor", perChannel ? ch : -1, q,
                        new float[] {q.clipMin(), q.clipMax()}, now));
            }
        }
        write(sha, spec.name(), names, hists, params, now);
        return new Result(sha, names, hists, params);
    }

    private FloatHistogram[] observe(byte[] zip, String uri, SparkData.Loaded data, int inputs) {
        Broadcast<byte[]> model = ctx.jsc().broadcast(zip);
        try {
            return histograms(SparkData.featureBatches(data, inputs, ctx.config().getInt("calibrate.batch-size")),
                    model, uri);
        } finally {
            model.destroy();
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

    private static void checkData(DatasetSpec spec, List<String> names, FloatHistogram[] hists, double maxFraction) {
        if (hists[0].count() + hists[0].nanCount() + hists[0].infCount() == 0) {
            throw new CompactMLException(CompactMLException.Kind.USAGE, "Calibration data set " + spec.name()
                    + " (" + spec.uri() + ") is empty. Point '" + spec.key() + "' at data with examples.");
        }
        for (int t = 0; t < hists.length; t++) {
            FloatHistogram h = hists[t];
            long bad = h.nanCount() + h.infCount();
            double fraction = bad / (double) (bad + h.count());
            if (fraction > maxFraction) {
                throw new CompactMLException(CompactMLException.Kind.RUNTIME, String.format(java.util.Locale.ROOT,
                        "Tensor %s: %d of %d values (%.4f %%) are NaN or infinite, above"
                        + " calibrate.max-nonfinite-fraction = %s. Clean %s or raise the limit.", names.get(t),
                        bad, bad + h.count(), 100 * fraction, maxFraction, spec.name()));
            }
        }
    }

    private Row row(String sha, int tensor, String name, String kind, String method, String granularity,
                    int channel, QuantParams q, float[] clip, Timestamp now) {
        return RowFactory.create(ctx.runId(), sha, tensor, name, kind, method, granularity, channel, q.scale(),
                q.zeroPoint(), q.qmin(), q.qmax(), clip[0], clip[1], now);
    }

    private void write(String sha, String dataset, List<String> names, FloatHistogram[] hists, List<Row> params,
                       Timestamp now) {
        List<Row> stats = new ArrayList<>();
        for (int t = 0; t < hists.length; t++) {
            FloatHistogram h = hists[t];
            float lo = h.count() == 0 ? 0f : h.min();
            float hi = h.count() == 0 ? 0f : h.max();
            stats.add(RowFactory.create(ctx.runId(), sha, dataset, t, names.get(t), h.count(), h.nanCount(),
                    h.infCount(), lo, hi, lo, hi, toList(h.uniform(STORED_BINS, lo, hi)), now));
        }
        String where = "run_id = " + Tables.literal(ctx.runId()) + " AND model_sha256 = " + Tables.literal(sha);
        ctx.tables().replace(Tables.Table.CALIBRATION_STATS, stats, where);
        ctx.tables().replace(Tables.Table.QUANT_PARAMS, params, where);
    }

    private static List<Long> toList(long[] a) {
        List<Long> l = new ArrayList<>(a.length);
        for (long v : a) {
            l.add(v);
        }
        return l;
    }
}
