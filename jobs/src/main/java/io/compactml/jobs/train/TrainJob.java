package io.compactml.jobs.train;

import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.tables.Tables;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.model.NetworkSpec;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code train}: fits the network of {@code network.*} on {@code data.train} with DL4J on Spark (synchronous
 * parameter averaging), one progress line and one {@code training_history} row per epoch, and saves the model
 * under {@code models.root/<model>/<run-id>/model.zip}.
 */
public final class TrainJob {
    private final JobContext ctx;

    public TrainJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /** One epoch's numbers. */
    public record Epoch(int epoch, double trainLoss, double valLoss, double valAccuracy, long examples,
                        double samplesPerSec, double epochSeconds, double elapsedSeconds) {
    }

    /** The trained model and how training went. */
    public record Result(String modelUri, byte[] modelZip, String modelSha256, List<Epoch> history, int workers) {
    }

    public Result run() {
        CompactConfig c = ctx.config();
        NetworkSpec spec = NetworkSpec.from(c);
        DatasetSpec trainSpec = DatasetSpec.from(c, "train");
        SparkData.Loaded train = SparkData.load(ctx.spark(), trainSpec);
        MultiLayerNetwork init = new MultiLayerNetwork(spec.build(train.inputs()));
        init.init();
        String name = c.getString("model.name");
        Fitted fitted = fit(init, labeledBatches(init, train), name, c.getInt("train.epochs"), null);
        byte[] zip = ModelIO.toBytes(fitted.net());
        String uri = ctx.trainedModelUri(name, ctx.runId());
        ModelIO.writeBytes(uri, zip, ctx.hadoop());
        return new Result(uri, zip, ModelIO.sha256(zip), fitted.history(), fitted.workers());
    }

    /** Called before each epoch of {@link #fit} with the network about to be trained and the training master. */
    @FunctionalInterface
    public interface EpochStart {
        void before(int epoch, MultiLayerNetwork net, ParameterAveragingTrainingMaster master);
    }

    /** A network after a distributed fit. */
    public record Fitted(MultiLayerNetwork net, List<Epoch> history, int workers) {
    }

    /** Minibatches of {@code train.batch-size} for {@code net} from {@code train}, labels as the net needs them. */
    public JavaRDD<DataSet> labeledBatches(MultiLayerNetwork net, SparkData.Loaded train) {
        return SparkData.minibatches(train, ModelShapes.inputs(net), ModelShapes.outputs(net), ModelShapes.task(net),
                ctx.config().getInt("train.batch-size"));
    }

    /**
     * Fits {@code net} (initialized, its parameters the starting point) on {@code source} minibatches for
     * {@code epochs} with synchronous parameter averaging; one progress line and one {@code training_history}
     * row per epoch under {@code modelName}. The minibatches are spread over the workers and cached for the
     * run. {@code start} (may be null) runs before each epoch.
     */
    public Fitted fit(MultiLayerNetwork net, JavaRDD<DataSet> source, String modelName, int epochs, EpochStart start) {
        CompactConfig c = ctx.config();
        Task task = ModelShapes.task(net);
        int inputs = ModelShapes.inputs(net);
        int outputs = ModelShapes.outputs(net);
        int batchSize = c.getInt("train.batch-size");
        int workers = c.getInt("train.workers") > 0 ? c.getInt("train.workers") : ctx.jsc().defaultParallelism();
        JavaRDD<DataSet> batches = source.repartition(workers).persist(StorageLevel.MEMORY_ONLY());
        JavaRDD<DataSet> validation = null;
        try {
            long examples = batches.map(DataSet::numExamples).reduce(Integer::sum);
            if (c.getBoolean("train.validate")) {
                SparkData.Loaded eval = SparkData.loadFor(ctx.spark(), DatasetSpec.from(c, "eval"), inputs, 1);
                validation = SparkData.minibatches(eval, inputs, outputs, task,
                        c.getInt("evaluate.batch-size")).persist(StorageLevel.MEMORY_ONLY());
            }
            ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(workers, batchSize)
                    .batchSizePerWorker(batchSize)
                    .averagingFrequency(c.getInt("train.averaging-frequency"))
                    .workerPrefetchNumBatches(2)
                    // the builder's default drops Adam's moments after every averaging step: training then
                    // restarts the updater every few minibatches and stalls around 84 % on Fashion-MNIST
                    .saveUpdater(true)
                    // minibatches are built once and cached: no per-epoch export to disk, no reshuffle of INDArrays
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .repartionData(Repartition.Never)
                    .storageLevel(StorageLevel.MEMORY_ONLY())
                    .rngSeed(c.getInt("train.seed"))
                    .collectTrainingStats(false)
                    .build();
            SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(ctx.jsc(), net, tm);
            Console.out("train %s: %,d examples, %d epochs, %d workers, batch %d per worker", modelName, examples,
                    epochs, workers, batchSize);
            List<Epoch> history = new ArrayList<>();
            double elapsed = 0;
            for (int e = 1; e <= epochs; e++) {
                if (start != null) {
                    start.before(e, sparkNet.getNetwork(), tm);
                }
                long t0 = System.nanoTime();
                sparkNet.fit(batches);
                double seconds = (System.nanoTime() - t0) / 1e9;
                elapsed += seconds;
                double valLoss = Double.NaN;
                double valAcc = Double.NaN;
                if (validation != null) {
                    byte[] zip = ModelIO.toBytes(sparkNet.getNetwork());
                    Map<String, Double> m = VariantEvaluator.evaluate(ctx.jsc(), zip, "epoch " + e, validation,
                            task, outputs, 1);
                    valLoss = m.get("loss");
                    valAcc = task == Task.CLASSIFICATION ? m.get("accuracy") : Double.NaN;
                }
                Epoch ep = new Epoch(e, sparkNet.getScore(), valLoss, valAcc, examples, examples / seconds, seconds,
                        elapsed);
                history.add(ep);
                Console.out("epoch %d/%d  loss %.4f  val_loss %s  val_acc %s  %,.0f samples/s  %.1f s (total %.1f s)",
                        e, epochs, ep.trainLoss(), orDash(valLoss), orDash(valAcc), ep.samplesPerSec(), seconds,
                        elapsed);
            }
            writeHistory(modelName, history, workers);
            return new Fitted(sparkNet.getNetwork(), history, workers);
        } finally {
            batches.unpersist(false);
            if (validation != null) {
                validation.unpersist(false);
            }
        }
    }

    private void writeHistory(String model, List<Epoch> history, int workers) {
        Timestamp now = Timestamp.from(Instant.now());
        List<Row> rows = new ArrayList<>();
        for (Epoch e : history) {
            rows.add(RowFactory.create(ctx.runId(), model, e.epoch(), e.trainLoss(), nullIfNaN(e.valLoss()),
                    nullIfNaN(e.valAccuracy()), e.examples(), e.samplesPerSec(), e.epochSeconds(), e.elapsedSeconds(),
                    workers, now));
        }
        ctx.tables().replace(Tables.Table.TRAINING_HISTORY, rows,
                "run_id = " + Tables.literal(ctx.runId()) + " AND model_name = " + Tables.literal(model));
    }

    private static String orDash(double v) {
        return Double.isNaN(v) ? "-" : String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    private static Double nullIfNaN(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
