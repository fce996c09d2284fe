package io.compactml.common.model;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.Task;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The networks {@code train} builds, from the {@code network.*} and {@code train.*} keys.
 *
 * <ul>
 *   <li>{@code mlp}: inputs -> hidden ReLU layers ({@code network.hidden}) -> outputs.</li>
 *   <li>{@code cnn}: per entry of {@code network.conv-filters} a 3x3 ReLU convolution (same padding) and a 2x2
 *   max-pooling, then a dense ReLU layer of {@code network.dense}, then outputs. The flat input is reshaped
 *   to {@code network.input-shape} (height, width, channels).</li>
 * </ul>
 * Classification ends in softmax + multi-class cross-entropy, regression in identity + MSE. Weights are Xavier
 * (He for ReLU layers) from {@code train.seed}; the updater is Adam.
 */
public record NetworkSpec(
        NetworkType type,
        List<Integer> hidden,
        List<Integer> convFilters,
        int dense,
        List<Integer> inputShape,
        int outputs,
        double dropout,
        Task task,
        double learningRate,
        double l2,
        long seed) {

    public static NetworkSpec from(CompactConfig c) {
        return new NetworkSpec(
                c.getEnum("network.type", NetworkType.class),
                c.getIntList("network.hidden"),
                c.getIntList("network.conv-filters"),
                c.getInt("network.dense"),
                c.getIntList("network.input-shape"),
                c.getInt("network.outputs"),
                c.getDouble("network.dropout"),
                c.getEnum("task", Task.class),
                c.getDouble("train.learning-rate"),
                c.getDouble("train.l2"),
                c.getInt("train.seed"));
    }

    /**
     * The student of {@code distill}: its architecture from {@code distill.student.*}, its learning rate from
     * {@code distill.learning-rate}; input shape, outputs, task, regularisation and seed as the teacher's keys.
     */
    public static NetworkSpec student(CompactConfig c) {
        return new NetworkSpec(
                c.getEnum("distill.student.type", NetworkType.class),
                c.getIntList("distill.student.hidden"),
                c.getIntList("distill.student.conv-filters"),
                c.getInt("distill.student.dense"),
                c.getIntList("network.input-shape"),
                c.getInt("network.outputs"),
                c.getDouble("network.dropout"),
                c.getEnum("task", Task.class),
                c.getDouble("distill.learning-rate"),
                c.getDouble("train.l2"),
                c.getInt("train.seed"));
    }

    /** The number of inputs the network expects. */
    public int inputs(int dataInputs) {
        return type == NetworkType.CNN ? inputShape.get(0) * inputShape.get(1) * inputShape.get(2) : dataInputs;
    }

    /** Builds the DL4J configuration for {@code inputs} flat input features. */
    public MultiLayerConfiguration build(int inputs) {
        return build(inputs, null);
    }

    /** As {@link #build(int)}, the output layer trained with {@code loss} (null: the task's standard loss). */
    public MultiLayerConfiguration build(int inputs, ILossFunction loss) {
        if (type == NetworkType.CNN && inputs != inputs(inputs)) {
            throw io.compactml.common.Errors.badConfigValue(
                    "network.input-shape",
                    inputShape,
                    "height x width x channels = the " + inputs + " features of the data");
        }
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .l2(l2)
                .weightInit(WeightInit.RELU)
                .list();
        int layer = 0;
        if (type == NetworkType.MLP) {
            for (int h : hidden) {
                list.layer(
                        layer++,
                        withDropout(new DenseLayer.Builder().nOut(h).activation(Activation.RELU))
                                .build());
            }
        } else {
            for (int f : convFilters) {
                list.layer(
                        layer++,
                        new ConvolutionLayer.Builder(3, 3)
                                .nOut(f)
                                .stride(1, 1)
                                .convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Same)
                                .activation(Activation.RELU)
                                .build());
                list.layer(
                        layer++,
                        new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                                .kernelSize(2, 2)
                                .stride(2, 2)
                                .build());
            }
            list.layer(
                    layer++,
                    withDropout(new DenseLayer.Builder().nOut(dense).activation(Activation.RELU))
                            .build());
        }
        OutputLayer.Builder out = loss != null
                ? new OutputLayer.Builder(loss)
                : new OutputLayer.Builder(task == Task.CLASSIFICATION ? LossFunction.MCXENT : LossFunction.MSE);
        out.activation(task == Task.CLASSIFICATION ? Activation.SOFTMAX : Activation.IDENTITY);
        list.layer(layer, out.nOut(outputs).weightInit(WeightInit.XAVIER).build());
        list.setInputType(
                type == NetworkType.CNN
                        ? InputType.convolutionalFlat(inputShape.get(0), inputShape.get(1), inputShape.get(2))
                        : InputType.feedForward(inputs));
        return list.build();
    }

    private DenseLayer.Builder withDropout(DenseLayer.Builder b) {
        // DL4J's dropOut takes the probability of *retaining* an activation
        return dropout > 0 ? b.dropOut(1.0 - dropout) : b;
    }
}
