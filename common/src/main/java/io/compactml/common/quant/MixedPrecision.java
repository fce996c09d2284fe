package io.compactml.common.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Weight bit widths chosen per layer under an accuracy budget ({@code quantize.mixed-bits} with
 * {@code quantize.max-accuracy-drop}): a greedy choice, the bit-allocation order of HAWQ (Dong et al. 2019) with a
 * measured sensitivity in place of the Hessian trace. From the model the float fallback settled on
 * ({@link AccuracyBudget}), every move "layer l to b bits" is ranked by the bits it saves per point of accuracy
 * its layer lost alone at b bits (that layer at b, every other at the starting width, {@link Move#aloneAccuracy});
 * the moves are tried in that order, each on top of the ones kept so far, and kept when the whole model is still
 * within the budget, reverted otherwise. Every try is a {@link AccuracyBudget.Step}. Greedy, not a knapsack: the
 * losses of layers are not additive (a knapsack over the alone losses would take moves that together miss the
 * budget), so each choice is checked on the combined model; that costs one evaluation per move, at most
 * layers x widths.
 */
public final class MixedPrecision {
    private MixedPrecision() {}

    /** Floor of a move's cost in points, so that moves which lose nothing alone rank by the bits they save. */
    static final double MIN_COST_POINTS = 0.01;

    /**
     * One candidate move.
     *
     * @param layer         the layer index
     * @param bits          the lower weight bit width (4, 2 or 1)
     * @param aloneAccuracy accuracy of the model with only this layer at {@code bits}, others at the start width
     * @param weights       the layer's weight count
     */
    public record Move(int layer, int bits, double aloneAccuracy, long weights) {}

    /**
     * {@code moves} in the order they are tried: most weight bits saved (against {@code startBits}) per point of
     * accuracy lost alone ({@code reference - aloneAccuracy}, at least {@link #MIN_COST_POINTS}) first; ties by
     * layer, then by the higher width.
     */
    public static List<Move> rank(List<Move> moves, int[] startBits, double reference) {
        List<Move> out = new ArrayList<>(moves);
        out.sort(Comparator.comparingDouble((Move m) -> -value(m, startBits, reference))
                .thenComparingInt(Move::layer)
                .thenComparingInt(m -> -m.bits()));
        return out;
    }

    private static double value(Move m, int[] startBits, double reference) {
        double saved = (double) m.weights() * (startBits[m.layer()] - m.bits());
        double cost = Math.max(100 * (reference - m.aloneAccuracy()), MIN_COST_POINTS);
        return saved / cost;
    }

    /** The model chosen, the weight bits of its layers, every step (the fallback's, then every move tried). */
    public record Outcome<M>(AccuracyBudget.Evaluated<M> chosen, int[] layerBits, List<AccuracyBudget.Step> steps) {}

    /**
     * Lowers bit widths greedily from {@code start}.
     *
     * @param reference    accuracy of the float model
     * @param budgetPoints the budget in points (at least 0)
     * @param start        the float fallback's outcome: its model is where the moves start
     * @param startBits    the weight bits of every layer of {@code start}'s model ({@link Int8Model#layerBits()})
     * @param moves        the moves to try (moves on layers in float are ignored)
     * @param evaluate     builds and evaluates the model with the given bits per layer
     */
    public static <M> Outcome<M> lower(
            double reference,
            double budgetPoints,
            AccuracyBudget.Outcome<M> start,
            int[] startBits,
            List<Move> moves,
            Function<int[], AccuracyBudget.Evaluated<M>> evaluate) {
        int[] current = startBits.clone();
        AccuracyBudget.Evaluated<M> chosen = start.chosen();
        List<AccuracyBudget.Step> steps = new ArrayList<>(start.steps());
        for (Move m : rank(moves, startBits, reference)) {
            if (current[m.layer()] == Int8Model.FLOAT_BITS || m.bits() >= current[m.layer()]) {
                continue;
            }
            int[] trial = current.clone();
            trial[m.layer()] = m.bits();
            AccuracyBudget.Evaluated<M> e = evaluate.apply(trial.clone());
            double drop = AccuracyBudget.drop(reference, e);
            boolean kept = drop <= budgetPoints;
            String what = String.format(
                    Locale.ROOT,
                    "layer %d to %d bits (alone: %.2f points): %s",
                    m.layer(),
                    m.bits(),
                    100 * (reference - m.aloneAccuracy()),
                    kept ? "kept" : "reverted, over the budget");
            steps.add(AccuracyBudget.step(
                    steps.size(),
                    start.floatLayers(),
                    Arrays.stream(trial).boxed().toList(),
                    e,
                    reference,
                    budgetPoints,
                    what));
            if (kept) {
                current = trial;
                chosen = e;
            }
        }
        return new Outcome<>(chosen, current, steps);
    }
}
