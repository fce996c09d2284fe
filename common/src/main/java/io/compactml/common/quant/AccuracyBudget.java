package io.compactml.common.quant;

import io.compactml.common.Errors;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Mixed precision under an accuracy budget, as OpenVINO NNCF's {@code AccuracyAwareLoop} and Neural Compressor's
 * fallback do: starting from the model with every supported layer in int8, the most sensitive layer left moves to
 * float, one at a time, until the accuracy is within {@code budget} points of the float model's. Sensitivity is
 * the accuracy lost with only that layer in int8 ({@link #rank}). The evaluation is a function (the model's
 * float layers in, the model and its accuracy out), so the loop runs without Spark.
 */
public final class AccuracyBudget {
    private AccuracyBudget() {}

    /** A model and its accuracy (NaN when the task has none, regression). */
    public record Evaluated<M>(M model, double accuracy) {}

    /**
     * One step of the loop, as {@code quant_decisions} records it.
     *
     * @param floatLayers  the layers in float after this step
     * @param dropPoints   accuracy lost against the float model, in points (NaN without an accuracy)
     * @param layerBits    the weight bits of every layer after this step, by layer ({@link Int8Model#layerBits()}:
     *     {@link Int8Model#FLOAT_BITS} for float, 0 without weights); empty when the caller gave none
     * @param withinBudget null without a budget or an accuracy
     */
    public record Step(
            int step,
            List<Integer> floatLayers,
            List<Integer> layerBits,
            double accuracy,
            double dropPoints,
            Boolean withinBudget,
            String decision) {}

    /** The model the loop settled on, its float layers and every step taken. */
    public record Outcome<M>(Evaluated<M> chosen, Set<Integer> floatLayers, List<Step> steps) {}

    /**
     * {@code layers} most sensitive first: by the accuracy lost with only that layer in int8
     * ({@code aloneAccuracy}, against {@code reference}); without those trials, from the output backwards.
     */
    public static List<Integer> rank(List<Integer> layers, Map<Integer, Double> aloneAccuracy, double reference) {
        List<Integer> out = new ArrayList<>(layers);
        out.sort(Comparator.comparingDouble((Integer l) -> {
            Double alone = aloneAccuracy.get(l);
            return alone == null ? -l : -(reference - alone);
        }));
        return out;
    }

    /**
     * Runs the loop. With a negative {@code budgetPoints} nothing moves: the outcome is {@code allInt8}, one step.
     *
     * @param reference    accuracy of the float model
     * @param floatLayers  layers in float from the start (kept in float throughout)
     * @param allInt8      the model with every other supported layer in int8, evaluated
     * @param ranked       layers that may move to float, most sensitive first ({@link #rank})
     * @param evaluate     builds and evaluates the model with the given float layers
     * @throws io.compactml.common.CompactMLException (runtime) when even every ranked layer in float misses the
     *     budget
     */
    public static <M> Outcome<M> apply(
            double reference,
            double budgetPoints,
            Set<Integer> floatLayers,
            Evaluated<M> allInt8,
            List<Integer> ranked,
            Function<Set<Integer>, Evaluated<M>> evaluate) {
        return apply(reference, budgetPoints, floatLayers, allInt8, new int[0], ranked, evaluate);
    }

    /**
     * {@link #apply(double, double, Set, Evaluated, List, Function)}, with {@code allInt8Bits} the weight bits of
     * every layer of {@code allInt8} ({@link Int8Model#layerBits()}) so that every step records its own.
     */
    public static <M> Outcome<M> apply(
            double reference,
            double budgetPoints,
            Set<Integer> floatLayers,
            Evaluated<M> allInt8,
            int[] allInt8Bits,
            List<Integer> ranked,
            Function<Set<Integer>, Evaluated<M>> evaluate) {
        TreeSet<Integer> current = new TreeSet<>(floatLayers);
        Evaluated<M> chosen = allInt8;
        List<Step> steps = new ArrayList<>();
        java.util.function.Function<Set<Integer>, List<Integer>> bits = floats -> {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < allInt8Bits.length; i++) {
                out.add(floats.contains(i) && allInt8Bits[i] != 0 ? Int8Model.FLOAT_BITS : allInt8Bits[i]);
            }
            return out;
        };
        steps.add(step(0, current, bits.apply(current), chosen, reference, budgetPoints, "all supported layers int8"));
        if (budgetPoints < 0) {
            return new Outcome<>(chosen, current, steps);
        }
        for (int layer : ranked) {
            if (drop(reference, chosen) <= budgetPoints) {
                break;
            }
            current.add(layer);
            chosen = evaluate.apply(Set.copyOf(current));
            steps.add(step(
                    steps.size(),
                    current,
                    bits.apply(current),
                    chosen,
                    reference,
                    budgetPoints,
                    "layer " + layer + " to float (most sensitive left)"));
        }
        if (!(drop(reference, chosen) <= budgetPoints)) {
            throw Errors.budgetNotMet(budgetPoints, drop(reference, chosen), current);
        }
        return new Outcome<>(chosen, current, steps);
    }

    static double drop(double reference, Evaluated<?> e) {
        return 100 * (reference - e.accuracy());
    }

    static Step step(
            int n,
            Set<Integer> floatLayers,
            List<Integer> layerBits,
            Evaluated<?> e,
            double reference,
            double budget,
            String what) {
        double drop = drop(reference, e);
        Boolean within = budget < 0 || Double.isNaN(drop) ? null : drop <= budget;
        return new Step(n, List.copyOf(floatLayers), List.copyOf(layerBits), e.accuracy(), drop, within, what);
    }
}
