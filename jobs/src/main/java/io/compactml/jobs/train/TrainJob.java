package io.compactml.jobs.train;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.FeatureMoments;
import io.compactml.common.data.LabelMapping;
import io.compactml.common.data.ScalingMethod;
import io.compactml.common.data.Task;
import io.compactml.common.eval.EvaluateSettings;
import io.compactml.common.model.ClassNames;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.ModelShapes;
import io.compactml.common.model.NetworkSpec;
import io.compactml.common.model.TrainBudget;
import io.compactml.common.model.TrainSettings;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.tables.Scope;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.tables.TrainingHistoryRow;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/**
 * {@code train}: fits the network of {@code network.*} on {@code data.train} with DL4J on Spark (synchronous
 * parameter averaging), one progress line and one {@code training_history} row per epoch, and saves the model
 * under {@code models.root/<model>/<run-id>/model.zip}. {@link #fit} is also how {@code prune} fine-tunes and
 * {@code distill} trains its students.
 */
public final class TrainJob {
    private final JobContext ctx;
    private final TrainSettings settings;

    public TrainJob(JobContext ctx) {
        this.ctx = ctx;
        this.settings = TrainSettings.from(ctx.config());
    }

    /** One epoch's numbers. */
    public record Epoch(
            int epoch,
            double trainLoss,
            double valLoss,
            double valAccuracy,
            long examples,
            double samplesPerSec,
            double epochSeconds,
            double elapsedSeconds) {}

    /** The trained model and how training went. */
    public record Result(String modelUri, byte[] modelZip, String modelSha256, List<Epoch> history, int workers) {
        /** The trained model as the next job takes it, named {@code name}. */
        public LoadedModel model(String name) {
            return LoadedModel.of(name, modelUri, modelZip);
        }
    }

    /** Called before each epoch of {@link #fit} with the network about to be trained and the training master. */
    @FunctionalInterface
    public interface EpochStart {
        void before(int epoch, MultiLayerNetwork net, ParameterAveragingTrainingMaster master);
    }

    /** A network after a distributed fit. */
    public record Fitted(MultiLayerNetwork net, List<Epoch> history, int workers) {}

    public Result run() {
        DatasetSpec spec = DatasetSpec.from(ctx.config(), "train");
        NetworkSpec network = NetworkSpec.from(ctx.config());
        ClassNames classes = classNames(spec, network);
        if (classes != null) {
            spec = spec.withClasses(classes.names());
        }
        SparkData.Loaded train = SparkData.load(ctx.spark(), spec);
        MultiLayerConfiguration conf = network.build(train.inputs());
        if (classes != null) {
            classes.attachTo(conf, network.outputs());
        }
        ScalingMethod method = spec.scaling().method();
        if (method.storedInModel()) {
            FeatureScaling.checkAttachable(conf, method.id());
        }
        String name = ctx.locations().modelName();
        JavaRDD<DataSet> batches = labeledBatches(new MultiLayerNetwork(conf), train);
        if (method.storedInModel()) {
            fitScaling(batches, method, name, train.inputs()).attachTo(conf);
        }
        MultiLayerNetwork init = new MultiLayerNetwork(conf);
        init.init();
        LoadedModel.checkData(ctx, init, name);
        Fitted fitted = fit(init, batches, name, settings.epochs(), null);
        byte[] zip = ModelIO.toBytes(fitted.net());
        String uri = ctx.trainedModelUri(name, ctx.runId());
        ModelFiles.write(uri, ModelFormat.DL4J_ZIP, zip, ctx.hadoop());
        return new Result(uri, zip, ModelIO.sha256(zip), fitted.history(), fitted.workers());
    }

    /**
     * With {@code label-mapping = auto}: the class names of {@code data.train} (sorted distinct labels,
     * {@link SparkData#classNames}), printed; else null.
     *
     * @throws io.compactml.common.CompactMLException (usage) for a regression task
     */
    private ClassNames classNames(DatasetSpec spec, NetworkSpec network) {
        if (spec.labelMapping() != LabelMapping.AUTO) {
            return null;
        }
        if (network.task() != Task.CLASSIFICATION) {
            throw Errors.badConfigValue(
                    spec.key() + ".label-mapping", "auto", "index for task = regression (its labels are targets)");
        }
        List<String> names = SparkData.classNames(ctx.spark(), spec);
        Console.out(
                "train %s: %d classes in data.train, stored in the model: %s",
                ctx.locations().modelName(), names.size(), ClassNames.preview(names));
        return new ClassNames(names);
    }

    /**
     * The per-feature statistics of {@code method} over the raw features of {@code batches} (one Spark pass, merged
     * by {@link FeatureMoments}), as the scaling the model stores; prints them, and the features without spread.
     */
    private static FeatureScaling fitScaling(JavaRDD<DataSet> batches, ScalingMethod method, String name, int n) {
        FeatureMoments m = batches.aggregate(
                new FeatureMoments(n),
                (acc, ds) -> {
                    for (float[] row : ds.getFeatures().toFloatMatrix()) {
                        acc.add(row);
                    }
                    return acc;
                },
                FeatureMoments::merge);
        Console.out(
                "train %s: %s %d features over %,d rows of data.train, statistics stored in the model (it takes raw"
                        + " rows)",
                name, method.id(), n, m.count());
        List<Integer> constant = m.constantFeatures(method);
        if (!constant.isEmpty()) {
            Console.out(
                    "train %s: %d feature(s) constant in data.train, centred but not scaled: %s",
                    name, constant.size(), constant.size() > 20 ? constant.subList(0, 20) + " ..." : constant);
        }
        return m.scaling(method);
    }

    /** Minibatches of {@code train.batch-size} for {@code net} from {@code train}, labels as the net needs them. */
    public JavaRDD<DataSet> labeledBatches(MultiLayerNetwork net, SparkData.Loaded train) {
        return SparkData.minibatches(
                train, ModelShapes.inputs(net), ModelShapes.outputs(net), ModelShapes.task(net), settings.batchSize());
    }

    /**
     * Fits {@code net} (initialized, its parameters the starting point) on {@code source} minibatches for
     * {@code epochs} with synchronous parameter averaging; one progress line and one {@code training_history}
     * row per epoch under {@code modelName}. The minibatches are spread over the workers and cached for the
     * run. {@code start} (may be null) runs before each epoch.
     */
    public Fitted fit(MultiLayerNetwork net, JavaRDD<DataSet> source, String modelName, int epochs, EpochStart start) {
        return fit(net, source, null, modelName, TrainBudget.ofEpochs(epochs), 1, start);
    }

    /**
     * As {@link #fit(MultiLayerNetwork, JavaRDD, String, int, EpochStart)} for a {@link TrainBudget}: its epochs, or
     * the epochs its steps take (at least {@code minEpochs}, e.g. a pruning schedule's steps), and with early
     * stopping on {@code holdout} (labeled minibatches of the held-out share, null without early stopping): after
     * each epoch from {@code minEpochs} on, the loss on it; training stops after {@code budget.patience()} epochs
     * without a lower one, and the network gets the best epoch's parameters back.
     */
    public Fitted fit(
            MultiLayerNetwork net,
            JavaRDD<DataSet> source,
            JavaRDD<DataSet> holdout,
            String modelName,
            TrainBudget budget,
            int minEpochs,
            EpochStart start) {
        int workers = settings.workers() > 0 ? settings.workers() : ctx.jsc().defaultParallelism();
        JavaRDD<DataSet> batches = MinibatchDeal.deal(source, workers).persist(StorageLevel.MEMORY_ONLY());
        JavaRDD<DataSet> validation = settings.validate() ? validationBatches(net) : null;
        JavaRDD<DataSet> held = holdout == null ? null : holdout.persist(StorageLevel.MEMORY_ONLY());
        try {
            long examples = batches.map(DataSet::numExamples).reduce(Integer::sum);
            long perWorker =
                    (examples + (long) workers * settings.batchSize() - 1) / ((long) workers * settings.batchSize());
            int epochs = budget.epochsFor(perWorker, minEpochs);
            ParameterAveragingTrainingMaster tm = trainingMaster(workers);
            SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(ctx.jsc(), net, tm);
            Console.out(
                    "train %s: %,d examples, %d epochs%s, %d workers, batch %d per worker%s",
                    modelName,
                    examples,
                    epochs,
                    budget.steps() > 0
                            ? String.format(Locale.ROOT, " (%,d steps of %,d per epoch)", budget.steps(), perWorker)
                            : "",
                    workers,
                    settings.batchSize(),
                    held == null
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    ", early stopping with patience %d on %,d held-out examples",
                                    budget.patience(),
                                    held.map(DataSet::numExamples).reduce(Integer::sum)));
            List<Epoch> history = new ArrayList<>();
            Best best = new Best();
            for (int e = 1; e <= epochs; e++) {
                if (start != null) {
                    start.before(e, sparkNet.getNetwork(), tm);
                }
                history.add(epoch(sparkNet, batches, validation, e, epochs, examples, history, modelName));
                if (held != null
                        && e >= minEpochs
                        && best.stop(sparkNet.getNetwork(), heldOutLoss(sparkNet, held), e, budget.patience())) {
                    break;
                }
            }
            writeHistory(modelName, history, workers);
            MultiLayerNetwork out = sparkNet.getNetwork();
            if (best.params != null && best.epoch < history.size()) {
                Console.out("early stopping: the weights of epoch %d (held-out loss %.4f)", best.epoch, best.loss);
                out.setParams(best.params);
            }
            return new Fitted(out, history, workers);
        } finally {
            batches.unpersist(false);
            if (validation != null) {
                validation.unpersist(false);
            }
            if (held != null) {
                held.unpersist(false);
            }
        }
    }

    /** The lowest held-out loss so far, its epoch and a copy of its parameters. */
    private static final class Best {
        double loss = Double.POSITIVE_INFINITY;
        int epoch;
        org.nd4j.linalg.api.ndarray.INDArray params;

        /** Records epoch {@code e}; whether {@code patience} epochs have passed without a lower loss. */
        boolean stop(MultiLayerNetwork net, double l, int e, int patience) {
            if (l < loss) {
                loss = l;
                epoch = e;
                params = net.params().dup();
            }
            return e - epoch >= patience;
        }
    }

    private double heldOutLoss(SparkDl4jMultiLayer sparkNet, JavaRDD<DataSet> held) {
        double loss = evaluateOn(sparkNet.getNetwork(), "held out", held).get("loss");
        Console.out("  held-out loss %.4f", loss);
        return loss;
    }

    /** {@code net}'s metrics on labeled {@code batches} (one distributed pass), {@code label} naming it in errors. */
    private Map<String, Double> evaluateOn(MultiLayerNetwork net, String label, JavaRDD<DataSet> batches) {
        return VariantEvaluator.evaluate(
                ctx.jsc(), ModelIO.toBytes(net), label, batches, ModelShapes.task(net), ModelShapes.outputs(net), 1);
    }

    /**
     * {@code data} split into {@code [fit on, held out]} for {@code budget}'s early stopping: its validation fraction
     * of the rows, seeded by {@code train.seed}.
     */
    public SparkData.Loaded[] holdOut(SparkData.Loaded data, TrainBudget budget) {
        return SparkData.holdOut(data, budget.validationFraction(), settings.seed());
    }

    private ParameterAveragingTrainingMaster trainingMaster(int workers) {
        return new ParameterAveragingTrainingMaster.Builder(workers, settings.batchSize())
                .batchSizePerWorker(settings.batchSize())
                .averagingFrequency(settings.averagingFrequency())
                .workerPrefetchNumBatches(2)
                // the builder's default drops Adam's moments after every averaging step: training then
                // restarts the updater every few minibatches and stalls around 84 % on Fashion-MNIST
                .saveUpdater(true)
                // minibatches are built once and cached: no per-epoch export to disk, no reshuffle of INDArrays
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .repartionData(Repartition.Never)
                .storageLevel(StorageLevel.MEMORY_ONLY())
                .rngSeed(settings.seed())
                .collectTrainingStats(false)
                .build();
    }

    private JavaRDD<DataSet> validationBatches(MultiLayerNetwork net) {
        int inputs = ModelShapes.inputs(net);
        SparkData.Loaded eval = SparkData.loadFor(ctx.spark(), DatasetSpec.from(ctx.config(), "eval"), net, 1);
        return SparkData.minibatches(
                        eval,
                        inputs,
                        ModelShapes.outputs(net),
                        ModelShapes.task(net),
                        EvaluateSettings.from(ctx.config()).batchSize())
                .persist(StorageLevel.MEMORY_ONLY());
    }

    /**
     * One epoch of training, then the validation pass when there is one; prints the progress line, which ends with
     * the model's name (candidates trained at once print theirs in turn).
     */
    private Epoch epoch(
            SparkDl4jMultiLayer sparkNet,
            JavaRDD<DataSet> batches,
            JavaRDD<DataSet> validation,
            int e,
            int epochs,
            long examples,
            List<Epoch> before,
            String modelName) {
        long t0 = System.nanoTime();
        sparkNet.fit(batches);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double elapsed =
                seconds + before.stream().mapToDouble(Epoch::epochSeconds).sum();
        MultiLayerNetwork net = sparkNet.getNetwork();
        Task task = ModelShapes.task(net);
        double valLoss = Double.NaN;
        double valAcc = Double.NaN;
        if (validation != null) {
            Map<String, Double> m = evaluateOn(net, "epoch " + e, validation);
            valLoss = m.get("loss");
            valAcc = task == Task.CLASSIFICATION ? m.get("accuracy") : Double.NaN;
        }
        Epoch ep = new Epoch(e, sparkNet.getScore(), valLoss, valAcc, examples, examples / seconds, seconds, elapsed);
        Console.out(
                "epoch %d/%d  loss %.4f  val_loss %s  val_acc %s  %,.0f samples/s  %.1f s (total %.1f s)  %s",
                e,
                epochs,
                ep.trainLoss(),
                orDash(valLoss),
                orDash(valAcc),
                ep.samplesPerSec(),
                seconds,
                elapsed,
                modelName);
        return ep;
    }

    private void writeHistory(String model, List<Epoch> history, int workers) {
        Timestamp now = Timestamp.from(Instant.now());
        List<TrainingHistoryRow> rows = new ArrayList<>();
        for (Epoch e : history) {
            rows.add(new TrainingHistoryRow(
                    ctx.runId(),
                    model,
                    e.epoch(),
                    e.trainLoss(),
                    nullIfNaN(e.valLoss()),
                    nullIfNaN(e.valAccuracy()),
                    e.examples(),
                    e.samplesPerSec(),
                    e.epochSeconds(),
                    e.elapsedSeconds(),
                    workers,
                    now));
        }
        ctx.tables()
                .replace(Table.TRAINING_HISTORY, rows, Scope.run(ctx.runId()).and("model_name", model));
    }

    private static String orDash(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** {@code v}, or null for NaN (a column without a value). */
    public static Double nullIfNaN(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
