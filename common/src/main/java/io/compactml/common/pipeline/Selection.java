package io.compactml.common.pipeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Which candidate a plan ships: the smallest one that meets every constraint (accuracy drop from the source in
 * points, where a negative limit is none and 0 allows no drop; size in bytes and single-example latency in ms,
 * where 0 or less is none). A candidate without a measured accuracy never meets them. Sizes within 1 % of the
 * smallest are a tie, which goes to the more accurate (a compressed file's length moves by a few bytes with its
 * content, which says nothing about the model). Also the Pareto front of accuracy against size, for the report.
 */
public final class Selection {
    private Selection() {}

    /** A limit per constraint: a negative accuracy drop, or a size or latency of 0 or less, means none. */
    public record Constraints(double maxAccuracyDropPoints, long maxSizeBytes, double maxLatencyMs) {}

    /** What was measured for one candidate (latency NaN when not measured). */
    public record Measured(String name, double accuracy, long sizeBytes, double latencyMs) {}

    /** The verdict on one candidate. */
    public record Verdict(
            Measured measured,
            double accuracyDropPoints,
            List<String> violations,
            boolean chosen,
            boolean paretoOptimal,
            String decision) {
        public boolean meetsConstraints() {
            return violations.isEmpty();
        }
    }

    /** The verdict on every candidate, in the given order; at most one is chosen. */
    public static List<Verdict> decide(double sourceAccuracy, List<Measured> candidates, Constraints limits) {
        List<List<String>> violations = candidates.stream()
                .map(m -> violations(sourceAccuracy, m, limits))
                .toList();
        List<Measured> meeting = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            if (violations.get(i).isEmpty()) {
                meeting.add(candidates.get(i));
            }
        }
        long smallest = meeting.stream().mapToLong(Measured::sizeBytes).min().orElse(0);
        // sizes within 1 % are a tie (a compressed stream's length moves by a few bytes with its content): the
        // more accurate of the tied candidates is chosen, then the smaller
        List<Measured> tied = meeting.stream()
                .filter(m -> tiedInSize(m.sizeBytes(), smallest))
                .toList();
        Measured best = tied.stream()
                .min(Comparator.comparing(Measured::accuracy, Comparator.reverseOrder())
                        .thenComparingLong(Measured::sizeBytes))
                .orElse(null);
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Measured m = candidates.get(i);
            String decision = m == best
                    ? chosenBecause(m, smallest, tied.size(), meeting.size())
                    : !violations.get(i).isEmpty()
                            ? "rejected: " + String.join("; ", violations.get(i))
                            : notChosenBecause(m, best, tied.contains(m));
            out.add(new Verdict(
                    m,
                    dropPoints(sourceAccuracy, m),
                    List.copyOf(violations.get(i)),
                    m == best,
                    paretoOptimal(m, candidates),
                    decision));
        }
        return out;
    }

    /** The limits {@code m} violates, as people read them. */
    private static List<String> violations(double sourceAccuracy, Measured m, Constraints limits) {
        List<String> v = new ArrayList<>();
        double drop = dropPoints(sourceAccuracy, m);
        // a drop at the limit meets it: 100 * (0.89 - 0.87) is 2.0000000000000018 in doubles
        if (Double.isNaN(m.accuracy())) {
            v.add("accuracy not measured");
        } else if (limits.maxAccuracyDropPoints() >= 0 && !(drop <= limits.maxAccuracyDropPoints() + 1e-9)) {
            v.add(String.format(Locale.ROOT, "accuracy drop %.2f > %.2f points", drop, limits.maxAccuracyDropPoints()));
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

    private static String chosenBecause(Measured m, long smallest, int tied, int meeting) {
        return m.sizeBytes() == smallest
                ? String.format(Locale.ROOT, "chosen: the smallest of %d candidates meeting the constraints", meeting)
                : String.format(
                        Locale.ROOT,
                        "chosen: the most accurate of %d candidates within 1 %% of the smallest"
                                + " size (%,d bytes, a tie), of %d meeting the constraints",
                        tied,
                        smallest,
                        meeting);
    }

    /** Why {@code m}, which meets the constraints, is not the chosen {@code best}. */
    private static String notChosenBecause(Measured m, Measured best, boolean tied) {
        if (m.sizeBytes() == best.sizeBytes()) {
            return String.format(Locale.ROOT, "meets the constraints; %s is as small and more accurate", best.name());
        }
        if (tied) {
            return String.format(
                    Locale.ROOT,
                    "meets the constraints; %s is within 1 %% of its size (%,d vs %,d bytes,"
                            + " a tie) and more accurate",
                    best.name(),
                    best.sizeBytes(),
                    m.sizeBytes());
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

    /** No other candidate is at most as large and more accurate, or smaller and at least as accurate. */
    static boolean paretoOptimal(Measured m, List<Measured> all) {
        if (Double.isNaN(m.accuracy())) {
            return false;
        }
        for (Measured o : all) {
            if (o != m
                    && o.sizeBytes() <= m.sizeBytes()
                    && o.accuracy() >= m.accuracy()
                    && (o.sizeBytes() < m.sizeBytes() || o.accuracy() > m.accuracy())) {
                return false;
            }
        }
        return true;
    }

    private static double dropPoints(double sourceAccuracy, Measured m) {
        return 100 * (sourceAccuracy - m.accuracy());
    }
}
