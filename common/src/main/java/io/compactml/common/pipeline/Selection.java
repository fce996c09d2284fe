package io.compactml.common.pipeline;

import io.compactml.common.data.Task;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which candidate a plan ships: the smallest one that meets every constraint. For classification the constraint on
 * quality is the accuracy drop from the source in points (a negative limit is none, 0 allows no drop); for
 * regression the relative increase of the MSE over the source's ({@code 0.05} = 5 %, negative is none) and/or a
 * smallest R² ({@code -1} is none). Size in bytes and single-example latency in ms: 0 or less is none. A candidate
 * without a measured quality never meets them. Sizes within 1 % of the smallest are a tie, which goes to the better
 * quality (a compressed file's length moves by a few bytes with its content, which says nothing about the model).
 * Also the Pareto front of quality against size, for the report.
 */
public final class Selection {
    private Selection() {}

    /**
     * A limit per constraint: a negative accuracy drop or MSE increase, an R² of -1, or a size or latency of 0 or
     * less, means none.
     *
     * @param maxAccuracyDropPoints classification: points of accuracy a candidate may lose
     * @param maxSizeBytes          largest file
     * @param maxLatencyMs          largest single-example p50 latency
     * @param maxMseIncrease        regression: relative MSE increase over the source's (0.05 = 5 %)
     * @param minR2                 regression: smallest R²
     */
    public record Constraints(
            double maxAccuracyDropPoints, long maxSizeBytes, double maxLatencyMs, double maxMseIncrease, double minR2) {
        /** Classification limits only (none on MSE or R²). */
        public Constraints(double maxAccuracyDropPoints, long maxSizeBytes, double maxLatencyMs) {
            this(maxAccuracyDropPoints, maxSizeBytes, maxLatencyMs, -1, -1);
        }
    }

    /** What was measured for one candidate (NaN where not measured: accuracy for regression, MSE and R² else). */
    public record Measured(String name, double accuracy, double mse, double r2, long sizeBytes, double latencyMs) {
        /** A classifier's measurements. */
        public Measured(String name, double accuracy, long sizeBytes, double latencyMs) {
            this(name, accuracy, Double.NaN, Double.NaN, sizeBytes, latencyMs);
        }

        /** From an evaluation's metrics ({@code accuracy}, or {@code mse} and {@code r2}). */
        public static Measured of(String name, Map<String, Double> metrics, long sizeBytes, double latencyMs) {
            return new Measured(
                    name,
                    metrics.getOrDefault("accuracy", Double.NaN),
                    metrics.getOrDefault("mse", Double.NaN),
                    metrics.getOrDefault("r2", Double.NaN),
                    sizeBytes,
                    latencyMs);
        }
    }

    /**
     * The verdict on one candidate.
     *
     * @param accuracyDropPoints classification: 100 x (source accuracy - accuracy); NaN for regression
     * @param mseIncrease        regression: mse / source mse - 1; NaN for classification
     */
    public record Verdict(
            Measured measured,
            double accuracyDropPoints,
            double mseIncrease,
            List<String> violations,
            boolean chosen,
            boolean paretoOptimal,
            String decision) {
        public boolean meetsConstraints() {
            return violations.isEmpty();
        }
    }

    /** A classification plan's verdicts against a source of {@code sourceAccuracy}. */
    public static List<Verdict> decide(double sourceAccuracy, List<Measured> candidates, Constraints limits) {
        return decide(Task.CLASSIFICATION, new Measured("source", sourceAccuracy, 0, Double.NaN), candidates, limits);
    }

    /** The verdict on every candidate, in the given order, against {@code source}; at most one is chosen. */
    public static List<Verdict> decide(Task task, Measured source, List<Measured> candidates, Constraints limits) {
        Quality q = new Quality(task, source);
        List<List<String>> violations =
                candidates.stream().map(m -> violations(q, m, limits)).toList();
        List<Measured> meeting = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            if (violations.get(i).isEmpty()) {
                meeting.add(candidates.get(i));
            }
        }
        long smallest = meeting.stream().mapToLong(Measured::sizeBytes).min().orElse(0);
        // sizes within 1 % are a tie (a compressed stream's length moves by a few bytes with its content): the
        // better of the tied candidates is chosen, then the smaller
        List<Measured> tied = meeting.stream()
                .filter(m -> tiedInSize(m.sizeBytes(), smallest))
                .toList();
        Measured best = tied.stream()
                .min(Comparator.comparing(q::score, Comparator.reverseOrder()).thenComparingLong(Measured::sizeBytes))
                .orElse(null);
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Measured m = candidates.get(i);
            String decision = m == best
                    ? chosenBecause(q, m, smallest, tied.size(), meeting.size())
                    : !violations.get(i).isEmpty()
                            ? "rejected: " + String.join("; ", violations.get(i))
                            : notChosenBecause(q, m, best, tied.contains(m));
            out.add(new Verdict(
                    m,
                    task == Task.CLASSIFICATION ? dropPoints(source.accuracy(), m) : Double.NaN,
                    task == Task.REGRESSION ? q.mseIncrease(m) : Double.NaN,
                    List.copyOf(violations.get(i)),
                    m == best,
                    paretoOptimal(q, m, candidates),
                    decision));
        }
        return out;
    }

    /** How candidates compare for the task: accuracy (higher is better) or MSE (lower is better). */
    private record Quality(Task task, Measured source) {
        /** Higher is better; NaN when not measured. */
        double score(Measured m) {
            return task == Task.CLASSIFICATION ? m.accuracy() : -m.mse();
        }

        double mseIncrease(Measured m) {
            return m.mse() / source.mse() - 1;
        }

        String better() {
            return task == Task.CLASSIFICATION ? "more accurate" : "of lower MSE";
        }
    }

    /** The limits {@code m} violates, as people read them. */
    private static List<String> violations(Quality q, Measured m, Constraints limits) {
        List<String> v = new ArrayList<>();
        if (q.task() == Task.CLASSIFICATION) {
            double drop = dropPoints(q.source().accuracy(), m);
            // a drop at the limit meets it: 100 * (0.89 - 0.87) is 2.0000000000000018 in doubles
            if (Double.isNaN(m.accuracy())) {
                v.add("accuracy not measured");
            } else if (limits.maxAccuracyDropPoints() >= 0 && !(drop <= limits.maxAccuracyDropPoints() + 1e-9)) {
                v.add(String.format(
                        Locale.ROOT, "accuracy drop %.2f > %.2f points", drop, limits.maxAccuracyDropPoints()));
            }
        } else {
            double increase = q.mseIncrease(m);
            if (Double.isNaN(m.mse())) {
                v.add("mse not measured");
            } else if (limits.maxMseIncrease() >= 0 && !(increase <= limits.maxMseIncrease() + 1e-9)) {
                v.add(String.format(
                        Locale.ROOT,
                        "mse %.4g is %+.2f %% of the source's %.4g > %+.2f %%",
                        m.mse(),
                        100 * increase,
                        q.source().mse(),
                        100 * limits.maxMseIncrease()));
            }
            if (limits.minR2() > -1 && !(m.r2() >= limits.minR2() - 1e-12)) {
                v.add(
                        Double.isNaN(m.r2())
                                ? "r2 not measured"
                                : String.format(Locale.ROOT, "r2 %.4f < %.4f", m.r2(), limits.minR2()));
            }
        }
        if (limits.maxSizeBytes() > 0 && m.sizeBytes() > limits.maxSizeBytes()) {
            v.add(String.format(Locale.ROOT, "size %,d > %,d bytes", m.sizeBytes(), limits.maxSizeBytes()));
        }
        if (limits.maxLatencyMs() > 0 && !(m.latencyMs() <= limits.maxLatencyMs())) {
            v.add(
                    Double.isNaN(m.latencyMs())
                            ? "latency not measured"
                            : String.format(
                                    Locale.ROOT, "latency %.3f > %.3f ms", m.latencyMs(), limits.maxLatencyMs()));
        }
        return v;
    }

    private static String chosenBecause(Quality q, Measured m, long smallest, int tied, int meeting) {
        return m.sizeBytes() == smallest
                ? String.format(Locale.ROOT, "chosen: the smallest of %d candidates meeting the constraints", meeting)
                : String.format(
                        Locale.ROOT,
                        "chosen: the %s of %d candidates within 1 %% of the smallest"
                                + " size (%,d bytes, a tie), of %d meeting the constraints",
                        q.task() == Task.CLASSIFICATION ? "most accurate" : "lowest-MSE",
                        tied,
                        smallest,
                        meeting);
    }

    /** Why {@code m}, which meets the constraints, is not the chosen {@code best}. */
    private static String notChosenBecause(Quality q, Measured m, Measured best, boolean tied) {
        if (m.sizeBytes() == best.sizeBytes()) {
            return String.format(Locale.ROOT, "meets the constraints; %s is as small and %s", best.name(), q.better());
        }
        if (tied) {
            return String.format(
                    Locale.ROOT,
                    "meets the constraints; %s is within 1 %% of its size (%,d vs %,d bytes," + " a tie) and %s",
                    best.name(),
                    best.sizeBytes(),
                    m.sizeBytes(),
                    q.better());
        }
        return String.format(
                Locale.ROOT,
                "meets the constraints, larger than %s (%,d > %,d bytes)",
                best.name(),
                m.sizeBytes(),
                best.sizeBytes());
    }

    /** Whether a size is within 1 % of the smallest, so that the two count as equal. */
    static boolean tiedInSize(long size, long smallest) {
        return size <= smallest + smallest / 100.0;
    }

    /** No other candidate is at most as large and better, or smaller and at least as good. */
    private static boolean paretoOptimal(Quality q, Measured m, List<Measured> all) {
        if (Double.isNaN(q.score(m))) {
            return false;
        }
        for (Measured o : all) {
            if (o != m
                    && o.sizeBytes() <= m.sizeBytes()
                    && q.score(o) >= q.score(m)
                    && (o.sizeBytes() < m.sizeBytes() || q.score(o) > q.score(m))) {
                return false;
            }
        }
        return true;
    }

    private static double dropPoints(double sourceAccuracy, Measured m) {
        return 100 * (sourceAccuracy - m.accuracy());
    }
}
