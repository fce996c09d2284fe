package io.compactml.common.pipeline;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Which candidate a plan ships: the smallest one that meets every constraint (accuracy drop from the source in
 * points, where a negative limit is none and 0 allows no drop; size in bytes and single-example latency in ms,
 * where 0 or less is none). A candidate without a measured accuracy never meets them. Ties in size go to the
 * more accurate. Also the Pareto front of accuracy against size, for the report.
 */
public final class Selection {
    private Selection() {
    }

    /** A limit per constraint: a negative accuracy drop, or a size or latency of 0 or less, means none. */
    public record Constraints(double maxAccuracyDropPoints, long maxSizeBytes, double maxLatencyMs) {
    }

    /** What was measured for one candidate (latency NaN when not measured). */
    public record Measured(String name, double accuracy, long sizeBytes, double latencyMs) {
    }

    /** The verdict on one candidate. */
    public record Verdict(Measured measured, double accuracyDropPoints, List<String> violations, boolean chosen,
                          boolean paretoOptimal, String decision) {
        public boolean meetsConstraints() {
            return violations.isEmpty();
        }
    }

    /** The verdict on every candidate, in the given order; at most one is chosen. */
    public static List<Verdict> decide(double sourceAccuracy, List<Measured> candidates, Constraints limits) {
        List<List<String>> violations = new ArrayList<>();
        for (Measured m : candidates) {
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
                v.add(Double.isNaN(m.latencyMs()) ? "latency not measured"
                        : String.format(Locale.ROOT, "latency %.3f > %.3f ms", m.latencyMs(), limits.maxLatencyMs()));
            }
            violations.add(v);
        }
        Optional<Measured> best = candidates.stream().filter(m -> violations.get(candidates.indexOf(m)).isEmpty())
                .min(Comparator.comparingLong(Measured::sizeBytes).thenComparing(Measured::accuracy,
                        Comparator.reverseOrder()));
        long meeting = violations.stream().filter(List::isEmpty).count();
        List<Verdict> out = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            Measured m = candidates.get(i);
            boolean chosen = best.isPresent() && best.get() == m;
            String decision;
            if (chosen) {
                decision = String.format(Locale.ROOT, "chosen: the smallest of %d candidates meeting the constraints",
                        meeting);
            } else if (!violations.get(i).isEmpty()) {
                decision = "rejected: " + String.join("; ", violations.get(i));
            } else if (m.sizeBytes() == best.get().sizeBytes()) {
                decision = String.format(Locale.ROOT, "meets the constraints; %s is as small and more accurate",
                        best.get().name());
            } else {
                decision = String.format(Locale.ROOT, "meets the constraints, larger than %s (%,d > %,d bytes)",
                        best.get().name(), m.sizeBytes(), best.get().sizeBytes());
            }
            out.add(new Verdict(m, dropPoints(sourceAccuracy, m), List.copyOf(violations.get(i)), chosen,
                    paretoOptimal(m, candidates), decision));
        }
        return out;
    }

    /** No other candidate is at most as large and more accurate, or smaller and at least as accurate. */
    static boolean paretoOptimal(Measured m, List<Measured> all) {
        if (Double.isNaN(m.accuracy())) {
            return false;
        }
        for (Measured o : all) {
            if (o != m && o.sizeBytes() <= m.sizeBytes() && o.accuracy() >= m.accuracy()
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
