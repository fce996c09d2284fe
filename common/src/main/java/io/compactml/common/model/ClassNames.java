package io.compactml.common.model;

import io.compactml.common.Errors;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.preprocessor.BaseInputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The label vocabulary of a classifier trained with {@code label-mapping = auto}: output {@code i} is the class
 * {@code names.get(i)}.
 *
 * <p>DL4J's configuration has no field for metadata, so the vocabulary rides in it as the output layer's input
 * preprocessor, an identity (the output layer's input passes through unchanged, forward and backward). DL4J writes
 * preprocessors in the configuration JSON by class name, so every file that stores the configuration
 * ({@code model.zip}, {@code model.int8}, {@code model.sparse}) and every copy of it (clones, quantized and pruned
 * networks) keeps the names without further code; distilled students take the teacher's.
 */
public final class ClassNames extends BaseInputPreProcessor {
    private static final long serialVersionUID = 1L;

    private final List<String> names;

    /** @param names [classes], output {@code i} is {@code names.get(i)}; distinct */
    @JsonCreator
    public ClassNames(@JsonProperty("names") List<String> names) {
        if (names.isEmpty() || names.stream().distinct().count() != names.size()) {
            throw new IllegalArgumentException("class names must be distinct and at least one: " + names);
        }
        this.names = List.copyOf(names);
    }

    @JsonProperty("names")
    public List<String> names() {
        return names;
    }

    /** The class names {@code net} stores, if any. */
    public static Optional<ClassNames> of(MultiLayerNetwork net) {
        return of(net.getLayerWiseConfigurations());
    }

    public static Optional<ClassNames> of(MultiLayerConfiguration conf) {
        InputPreProcessor pre = conf.getInputPreProcess(conf.getConfs().size() - 1);
        return pre instanceof ClassNames c ? Optional.of(c) : Optional.empty();
    }

    /** The names {@code net} stores, or null. */
    public static List<String> namesOf(MultiLayerNetwork net) {
        return of(net).map(ClassNames::names).orElse(null);
    }

    /**
     * Stores these names in {@code conf}, as its output layer's preprocessor.
     *
     * @throws io.compactml.common.CompactMLException (usage) when the output layer has {@code names.size()} outputs
     *     of another count, or already has a preprocessor (an output layer right after a convolution flattens its
     *     input there)
     */
    public MultiLayerConfiguration attachTo(MultiLayerConfiguration conf, int outputs) {
        int last = conf.getConfs().size() - 1;
        InputPreProcessor pre = conf.getInputPreProcess(last);
        if (pre != null && !(pre instanceof ClassNames)) {
            throw Errors.badConfigValue(
                    "data.train.label-mapping",
                    "auto",
                    "index for this network: its output layer reshapes its input ("
                            + pre.getClass().getSimpleName()
                            + "), where the class names would be stored; put a dense layer before it");
        }
        if (outputs != names.size()) {
            throw Errors.badConfigValue(
                    "network.outputs",
                    outputs,
                    names.size() + ", the number of distinct labels in data.train (" + preview(names) + ")");
        }
        conf.getInputPreProcessors().put(last, clone());
        return conf;
    }

    /**
     * Checks that {@code spec} reads labels as {@code net} gives classes: {@code auto} for a model that stores class
     * names, {@code index} for one that does not. Unlabeled splits are not checked.
     *
     * @throws io.compactml.common.CompactMLException (usage) naming {@code <split>.label-mapping} and what to set
     */
    public static void checkData(MultiLayerNetwork net, String model, io.compactml.common.data.DatasetSpec spec) {
        if (!spec.labeled()) {
            return;
        }
        boolean auto = spec.labelMapping() == io.compactml.common.data.LabelMapping.AUTO;
        Optional<ClassNames> stored = of(net);
        String key = spec.key() + ".label-mapping";
        if (stored.isPresent() && !auto) {
            throw Errors.badConfigValue(
                    key,
                    "index",
                    "auto: model '" + model + "' classifies into the class names of its training data ("
                            + preview(stored.get().names()) + "), stored in it");
        }
        if (stored.isEmpty() && auto) {
            throw Errors.badConfigValue(
                    key,
                    "auto",
                    "index, as model '" + model + "' was trained: it stores no class names (train it with"
                            + " data.train.label-mapping = auto to have them)");
        }
    }

    /** At most 10 of {@code names}, for messages. */
    public static String preview(List<String> names) {
        return names.size() <= 10
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, 10)) + ", ... (" + names.size() + " in all)";
    }

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, input);
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, output);
    }

    @Override
    public ClassNames clone() {
        return new ClassNames(names);
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        return inputType;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassNames c && c.names.equals(names);
    }

    @Override
    public int hashCode() {
        return names.hashCode();
    }
}
