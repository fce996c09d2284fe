package io.compactml.common.model;

import io.compactml.common.Errors;
import java.util.Arrays;
import java.util.Optional;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.BaseInputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Per-feature scaling stored in the model: {@code x'_j = (x_j - shift_j) * factor_j} on every row of raw features,
 * the input preprocessor of layer 0, so that the network (and everything made from it: int8, pruned, students,
 * {@code model.onnx}, the served model) takes rows in their raw units.
 *
 * <ul>
 *   <li>{@code standardize}: shift = mean, factor = 1 / std, the population standard deviation of {@code data.train}
 *       (z-scores, as scikit-learn's {@code StandardScaler});
 *   <li>{@code minmax}: shift = min, factor = 1 / (max - min) (inputs in [0, 1] on the training data, as
 *       {@code MinMaxScaler}).
 * </ul>
 *
 * A feature without spread in the training data (std or max - min zero) keeps factor 1: it is centred, not scaled,
 * as scikit-learn does. Serialized in the network's configuration JSON (DL4J writes preprocessors by class name), so
 * {@code model.zip}, {@code model.int8} and {@code model.sparse} carry it.
 */
public final class FeatureScaling extends BaseInputPreProcessor {
    private static final long serialVersionUID = 1L;

    private final String method;
    private final float[] shift;
    private final float[] factor;
    private transient volatile INDArray[] rows;

    /**
     * @param method {@code standardize} or {@code minmax}, as configured
     * @param shift  [features], subtracted first
     * @param factor [features], then multiplied
     */
    @JsonCreator
    public FeatureScaling(
            @JsonProperty("method") String method,
            @JsonProperty("shift") float[] shift,
            @JsonProperty("factor") float[] factor) {
        if (shift.length != factor.length) {
            throw new IllegalArgumentException("shift has " + shift.length + " features, factor " + factor.length);
        }
        this.method = method;
        this.shift = shift.clone();
        this.factor = factor.clone();
    }

    @JsonProperty("method")
    public String method() {
        return method;
    }

    @JsonProperty("shift")
    public float[] shift() {
        return shift.clone();
    }

    @JsonProperty("factor")
    public float[] factor() {
        return factor.clone();
    }

    public int features() {
        return shift.length;
    }

    /** The scaling {@code net} stores (layer 0's input preprocessor), if any. */
    public static Optional<FeatureScaling> of(MultiLayerNetwork net) {
        return of(net.getLayerWiseConfigurations());
    }

    public static Optional<FeatureScaling> of(MultiLayerConfiguration conf) {
        InputPreProcessor pre = conf.getInputPreProcess(0);
        return pre instanceof FeatureScaling s ? Optional.of(s) : Optional.empty();
    }

    /**
     * Makes this the input preprocessor of layer 0 of {@code conf} (a network on flat features).
     *
     * @throws io.compactml.common.CompactMLException (usage) when layer 0 already has one (a CNN reshapes its flat
     *     input there): per-feature scaling is for tables
     */
    public MultiLayerConfiguration attachTo(MultiLayerConfiguration conf) {
        checkAttachable(conf, method);
        conf.getInputPreProcessors().put(0, clone());
        return conf;
    }

    /**
     * Whether a scaling of {@code method} can become layer 0's preprocessor of {@code conf}.
     *
     * @throws io.compactml.common.CompactMLException (usage) when layer 0 already has another one (a CNN reshapes its
     *     flat input there)
     */
    public static void checkAttachable(MultiLayerConfiguration conf, String method) {
        InputPreProcessor pre = conf.getInputPreProcess(0);
        if (pre != null && !(pre instanceof FeatureScaling)) {
            throw Errors.badConfigValue(
                    "data.train.scaling",
                    method,
                    "none or divide for a network.type = cnn (standardize and minmax scale each feature of a table:"
                            + " use them with network.type = mlp)");
        }
    }

    /**
     * Checks that {@code spec} reads its features as {@code net} takes them: raw ({@code none}, or the model's own
     * method) for a model that stores its scaling, anything but {@code standardize} or {@code minmax} for one that
     * does not.
     *
     * @throws io.compactml.common.CompactMLException (usage) naming {@code <split>.scaling} and what to set
     */
    public static void checkData(MultiLayerNetwork net, String model, io.compactml.common.data.DatasetSpec spec) {
        io.compactml.common.data.ScalingMethod m = spec.scaling().method();
        Optional<FeatureScaling> stored = of(net);
        String key = spec.key() + ".scaling";
        if (stored.isPresent()) {
            String own = stored.get().method();
            if (m != io.compactml.common.data.ScalingMethod.NONE && !m.id().equals(own)) {
                throw Errors.badConfigValue(
                        key,
                        m.id(),
                        own + " (or none): model '" + model + "' scales its raw inputs itself with the " + own
                                + " statistics of its training data, stored in it");
            }
        } else if (m.storedInModel()) {
            throw Errors.badConfigValue(
                    key,
                    m.id(),
                    "none or divide, as model '" + model + "' was trained: it stores no feature statistics (train it"
                            + " with data.train.scaling = " + m.id() + " to have them)");
        }
    }

    /** The scaled copy of {@code x} [rows, features]. */
    public INDArray apply(INDArray x) {
        return scale(x.dup(), 0);
    }

    /** {@code x} [features] scaled, in float. */
    public float[] apply(float[] x) {
        float[] out = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            out[j] = (x[j] - shift[j]) * factor[j];
        }
        return out;
    }

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        if (input.rank() != 2 || input.size(1) != shift.length) {
            throw new IllegalArgumentException("Feature scaling of " + shift.length + " features got input of shape "
                    + Arrays.toString(input.shape()));
        }
        return scale(workspaceMgr.dup(ArrayType.ACTIVATIONS, input), 0);
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        // d x' / d x = factor
        return scale(workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, output), 1);
    }

    /** In place: {@code (x - shift) * factor} for {@code from = 0}, only {@code * factor} for 1. */
    private INDArray scale(INDArray x, int from) {
        INDArray[] r = rows(x);
        if (from == 0) {
            x.subiRowVector(r[0]);
        }
        return x.muliRowVector(r[1]);
    }

    private INDArray[] rows(INDArray like) {
        INDArray[] r = rows;
        if (r == null || r[0].dataType() != like.dataType()) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                r = new INDArray[] {
                    Nd4j.createFromArray(shift).castTo(like.dataType()),
                    Nd4j.createFromArray(factor).castTo(like.dataType())
                };
            }
            rows = r;
        }
        return r;
    }

    @Override
    public FeatureScaling clone() {
        return new FeatureScaling(method, shift, factor);
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        return inputType;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeatureScaling s
                && s.method.equals(method)
                && Arrays.equals(s.shift, shift)
                && Arrays.equals(s.factor, factor);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * method.hashCode() + Arrays.hashCode(shift)) + Arrays.hashCode(factor);
    }
}
