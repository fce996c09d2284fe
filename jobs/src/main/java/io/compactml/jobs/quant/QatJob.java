package io.compactml.jobs.quant;

import io.compactml.common.artifact.ModelFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ModelIO;
import io.compactml.common.quant.FakeQuantActivation;
import io.compactml.common.quant.Int8Model;
import io.compactml.common.quant.QatSettings;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.QuantizeSettings;
import io.compactml.common.quant.StraightThroughWeights;
import io.compactml.jobs.data.SparkData;
import io.compactml.jobs.runtime.Console;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.runtime.LoadedModel;
import io.compactml.jobs.runtime.ModelFiles;
import io.compactml.jobs.train.TrainJob;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * {@code qat}: quantization-aware training. Starts from the model and its calibration (the post-training
 * parameters: {@code quantize.method} of {@code quantize.calibration-run}, which must exist), fine-tunes it on Spark
 * for {@code qat.epochs} at {@code qat.learning-rate} with its weights fake-quantized at {@code quantize.weight-bits}
 * in every forward pass and straight-through gradients ({@link StraightThroughWeights}, on every worker through
 * {@link QatHook}; float master weights averaged across workers), then quantizes the fine-tuned weights as
 * {@code quantize} does, with the calibration's activation ranges kept. With {@code qat.fake-quantize-activations}
 * the hidden layers' outputs are fake-quantized too, with those fixed ranges and the clipped straight-through
 * estimator ({@link FakeQuantActivation}).
 *
 * <p>Writes the fine-tuned float model {@code <model>-qat} (its epochs in {@code training_history}) and, through
 * {@link QuantizeJob}, {@code models.root/<model>-qat-int8/<run-id>/model.int8} with its evaluations, its
 * {@code layer_sensitivity} and {@code quant_decisions}.
 */
public final class QatJob {
    private final JobContext ctx;

    public QatJob(JobContext ctx) {
        this.ctx = ctx;
    }

    /**
     * @param fineTunedUri the fine-tuned float model
     * @param history      its epochs
     * @param quantized    its int8 model and what {@code quantize} measured
     */
    public record Result(String fineTunedUri, List<TrainJob.Epoch> history, QuantizeJob.Result quantized) {}

    /** @throws io.compactml.common.CompactMLException (usage) without the calibration to start from */
    public Result run() {
        QuantizeSettings q = QuantizeSettings.from(ctx.config());
        return qat(LoadedModel.read(ctx), q, QatSettings.from(ctx.config()), ctx.runIdOr(q.calibrationRun()));
    }

    /**
     * Fine-tunes {@code source} with its weights fake-quantized at {@code q.weightBits()} and quantizes it, from the
     * {@code q.method()} calibration of {@code source} under run {@code calibrationRun}.
     *
     * @throws io.compactml.common.CompactMLException (usage) without that calibration
     */
    public Result qat(LoadedModel source, QuantizeSettings q, QatSettings s, String calibrationRun) {
        QuantizeJob quantizer = new QuantizeJob(ctx);
        QuantParams[] acts = quantizer.activationParams(source, q, calibrationRun);

        // a group size the layers refuse, before any training
        Int8Model.checkGroupSize(source.net(), q.weightGroupSize(), Set.copyOf(q.floatLayers()));
        MultiLayerNetwork net = source.net().clone();
        net.setLearningRate(s.learningRate());
        int[] layers = QuantizeJob.weightLayers(net, q.floatLayers()).stream()
                .mapToInt(Integer::intValue)
                .toArray();
        List<Integer> quantizedOutputs = s.fakeQuantizeActivations() ? fakeQuantizeOutputs(net, acts) : List.of();
        String name = source.name() + "-qat";
        Console.out(
                "qat %s: %d epochs at learning rate %g, weights of layers %s fake-quantized at %d bits (%s),"
                        + " outputs of layers %s at 8 bits with the calibrated ranges",
                source.name(),
                s.epochs(),
                s.learningRate(),
                java.util.Arrays.toString(layers),
                q.weightBits(),
                q.weights().id(),
                quantizedOutputs);
        StraightThroughWeights ste =
                new StraightThroughWeights(q.weightBits(), q.weights().perChannel(), q.weightGroupSize(), layers);
        TrainJob trainer = new TrainJob(ctx);
        SparkData.Loaded train =
                SparkData.load(ctx.spark(), SparkData.forModel(DatasetSpec.from(ctx.config(), "train"), net));
        TrainJob.Fitted fitted =
                trainer.fit(net, trainer.labeledBatches(net, train), name, s.epochs(), (epoch, n, master) -> {
                    if (epoch == 1) {
                        master.addHook(new QatHook(ste));
                    }
                });
        restoreActivations(fitted.net());
        byte[] zip = ModelIO.toBytes(fitted.net());
        String uri = ctx.trainedModelUri(name, ctx.runId());
        ModelFiles.write(uri, ModelFormat.DL4J_ZIP, zip, ctx.hadoop());
        QuantizeJob.Result quantized = quantizer.quantize(LoadedModel.of(name, uri, zip), q, acts, calibrationRun);
        return new Result(uri, fitted.history(), quantized);
    }

    /**
     * Puts a {@link FakeQuantActivation} with the calibrated parameters of its output (tensor {@code i + 1}) on
     * every hidden layer {@code i} whose output the int8 model quantizes; the output layer keeps its own (its loss
     * takes the softmax's gradient in closed form, and the int8 model's class is the argmax either way). The
     * network input is not fake-quantized: it is the data, the same in every step.
     *
     * @return the layers changed
     */
    static List<Integer> fakeQuantizeOutputs(MultiLayerNetwork net, QuantParams[] acts) {
        List<Integer> changed = new ArrayList<>();
        for (int i = 0; i < net.getnLayers() - 1; i++) {
            if (net.getLayer(i).conf().getLayer() instanceof BaseLayer layer && acts[i + 1] != null) {
                layer.setActivationFn(new FakeQuantActivation(layer.getActivationFn(), acts[i + 1]));
                changed.add(i);
            }
        }
        return changed;
    }

    /** Every {@link FakeQuantActivation} replaced by the activation it wraps: the model as it is saved. */
    static void restoreActivations(MultiLayerNetwork net) {
        for (int i = 0; i < net.getnLayers(); i++) {
            for (var conf : List.of(
                    net.getLayer(i).conf(), net.getLayerWiseConfigurations().getConf(i))) {
                if (conf.getLayer() instanceof BaseLayer layer
                        && layer.getActivationFn() instanceof FakeQuantActivation f) {
                    layer.setActivationFn(f.base());
                }
            }
        }
    }
}
