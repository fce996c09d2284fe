package io.compactml.jobs.monitor;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ArtifactStore;
import io.compactml.common.artifact.Manifest;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Scaling;
import io.compactml.common.data.Task;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.monitor.MonitorSettings;
import io.compactml.common.monitor.MonitorSource;
import io.compactml.common.monitor.WindowStatistics;
import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxObserver;
import io.compactml.common.quant.CalibrationSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.DriftRow;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code monitor}: drift of a served model's inputs and activations against its calibration statistics. One
 * distributed forward pass of the artifact's network over the window (the inference log {@code serve} wrote, or
 * a data set) with the exact mergeable histograms of {@code calibrate}; per activation tensor the PSI and the
 * Jensen-Shannon distance on the reference's quantile bins and the share of values outside the calibrated clip
 * range (what int8 saturates); the PSI of the predicted-class distribution against the model's predictions on
 * {@code data.calibration}; with labels, the accuracy against the manifest's. Writes {@code drift} (see {@link
 * DriftRow}, {@link DriftReport} for the verdict).
 */
public final class MonitorJob {
    private final JobContext ctx;

    public MonitorJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** The served model: its name, version, manifest and network (an int8 model with dequantized weights). */
    public record Served(String model, String version, Manifest manifest, byte[] zip, MultiLayerNetwork net) {
        int classes() {
            return ModelShapes.outputs(net);
        }
    }

    public DriftReport run() {
        MonitorSettings s = MonitorSettings.from(ctx.config());
        Served served = served(s);
        Reference ref = reference(served, s);
        SparkData.Loaded window = window(s, served);
        boolean labeled = s.source() == MonitorSource.DATA && window.spec().labeled();
        DriftReport report = compare(served, ref, window.spec().name(), measure(served, window, labeled), s);
        if (!report.drift().isEmpty()) {
            ctx.tables().replace(Table.DRIFT, report.drift(), Scope.run(ctx.runId()));
        }
        return report;
    }

    /**
     * The reference of {@code served}: the calibration statistics ({@link Reference#read}) and the predicted-class
     * counts on {@code data.calibration}.
     */
    public Reference reference(Served served, MonitorSettings s) {
        Reference ref = Reference.read(ctx, served, s);
        return ref.withPredictions(
                measure(served, referenceData(s, served), false).predicted());
    }

    /**
     * A measured window against the reference: its {@code drift} rows (not written), or none when the window has
     * fewer than {@code monitor.min-rows} rows.
     */
    public DriftReport compare(Served served, Reference ref, String dataName, WindowStatistics w, MonitorSettings s) {
        String described = s.describeWindow(dataName);
        if (w.rows() < s.minRows()) {
            Console.out(
                    "window %s has %,d rows, fewer than monitor.min-rows = %d: no verdict",
                    described, w.rows(), s.minRows());
            return new DriftReport(served.model(), served.version(), described, w.rows(), List.of());
        }
        List<DriftRow> rows = new DriftComparison(ctx.runId(), served, ref, s, described).rows(w);
        return new DriftReport(served.model(), served.version(), described, w.rows(), rows);
    }

    /** The artifact {@code monitor.model}/{@code monitor.version} (default LATEST), verified as it is read. */
    public Served served(MonitorSettings s) {
        String root = ctx.locations().artifactsRoot();
        ArtifactStore store = new ArtifactStore(root, ctx.hadoop());
        String version = s.version().isEmpty()
                ? store.latest(s.model()).orElseThrow(() -> Errors.nothingPublished(s.model(), root))
                : s.version();
        Manifest m = store.verify(s.model(), version);
        String dir = store.dir(s.model(), version);
        ModelFormat format = ModelFormat.byId(m.format(), dir);
        MultiLayerNetwork net =
                format.network(store.read(s.model(), version, format.fileName()), dir + "/" + format.fileName());
        return new Served(s.model(), version, m, ModelIO.toBytes(net), net);
    }

    /** {@code data.calibration}, its first {@code monitor.reference-limit} rows: the reference predictions. */
    private SparkData.Loaded referenceData(MonitorSettings s, Served served) {
        DatasetSpec c = DatasetSpec.from(ctx.config(), "calibration");
        int limit = c.limit() == 0 ? s.referenceLimit() : Math.min(c.limit(), s.referenceLimit());
        DatasetSpec limited = c.withLimit(limit);
        return SparkData.load(ctx.spark(), SparkData.forModel(limited, served.net()));
    }

    /** The window: {@code data.monitor}, or the inference log's rows of the model in the time window. */
    public SparkData.Loaded window(MonitorSettings s, Served served) {
        if (s.source() == MonitorSource.DATA) {
            return SparkData.load(
                    ctx.spark(), SparkData.forModel(DatasetSpec.from(ctx.config(), "monitor"), served.net()));
        }
        String uri = io.compactml.common.config.Locations.inferenceLog(ctx.config());
        Dataset<Row> log = InferenceLogTable.read(ctx.spark(), uri, served.model(), s.windowStart(), s.windowEnd());
        Dataset<Row> rows = log.select(
                functions.monotonically_increasing_id().as("row_id"),
                functions.col("features"),
                functions.lit(0.0).as("label"));
        // served inputs are what the model takes: no scaling, as the server got them
        DatasetSpec spec = new DatasetSpec(
                "serve.log-uri",
                "inference_log",
                uri,
                io.compactml.common.data.DataFormat.PARQUET,
                "",
                "features",
                "",
                io.compactml.common.data.LabelMapping.INDEX,
                null,
                Scaling.NONE,
                0,
                0);
        return new SparkData.Loaded(spec, rows, ModelShapes.inputs(served.net()));
    }

    /**
     * The distributed pass: every partition deserializes the network once and folds its minibatches into a
     * {@link WindowStatistics}; the partial statistics are tree-reduced (counts add, exactly).
     */
    public WindowStatistics measure(Served served, SparkData.Loaded data, boolean labeled) {
        int inputs = ModelShapes.inputs(served.net());
        int classes = served.classes();
        int batch = EvaluateSettings.from(ctx.config()).batchSize();
        JavaRDD<DataSet> batches = labeled
                ? SparkData.minibatches(data, inputs, classes, ModelShapes.task(served.net()), batch)
                : SparkData.featureBatches(data, inputs, batch);
        if (batches.getNumPartitions() == 0) {
            return new WindowStatistics.Observer(served.net(), classes).result();
        }
        // the pass runs where calibrate ran its pass (calibrate.runtime), so that the same data gives the same
        // statistics as the reference
        boolean onnx = CalibrationSettings.from(ctx.config()).runtime() == ServingRuntime.ONNXRUNTIME;
        Broadcast<byte[]> shipped = ctx.jsc().broadcast(onnx ? OnnxExport.observing(served.net()) : served.zip());
        String uri = served.model() + "/" + served.version();
        int tensors = served.net().getnLayers() + 1;
        boolean withLabels = labeled && ModelShapes.task(served.net()) == Task.CLASSIFICATION;
        try {
            return batches.mapPartitions((Iterator<DataSet> it) -> {
                        OnnxObserver session = onnx ? new OnnxObserver(shipped.value(), tensors, 1) : null;
                        try {
                            WindowStatistics.Observer o = onnx
                                    ? new WindowStatistics.Observer(session, classes)
                                    : new WindowStatistics.Observer(ModelIO.fromBytes(shipped.value(), uri), classes);
                            while (it.hasNext()) {
                                DataSet d = it.next();
                                o.observe(d.getFeatures(), withLabels ? d.getLabels() : null);
                            }
                            return Collections.singletonList(o.result()).iterator();
                        } finally {
                            if (session != null) {
                                session.close();
                            }
                        }
                    })
                    .treeReduce(WindowStatistics::merge);
        } finally {
            shipped.destroy();
        }
    }

    /** The rows of a report, the most drifted first (by value over threshold). */
    static List<DriftRow> worstFirst(List<DriftRow> rows) {
        return rows.stream()
                .filter(DriftRow::drifted)
                .sorted(Comparator.comparingDouble((DriftRow r) -> -Math.abs(r.value() / r.threshold())))
                .toList();
    }
}
