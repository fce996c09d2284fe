package io.compactml.common.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SelectionTest {
    // source accuracy 0.8900; sizes in bytes, latencies in ms
    private static final List<Selection.Measured> CANDIDATES = List.of(
            new Selection.Measured("int8", 0.8880, 500_000, 0.20), // drop 0.20 points
            new Selection.Measured("pruned", 0.8870, 220_000, 0.20), // drop 0.30
            new Selection.Measured("pruned-int8", 0.8700, 95_000, 0.20), // drop 2.00
            new Selection.Measured("student", 0.8760, 40_000, 0.05), // drop 1.40
            new Selection.Measured("student-int8", 0.8890, 220_000, Double.NaN)); // drop 0.10, same size as pruned

    @Test
    void choosesTheSmallestWithinTheAccuracyBudget() {
        List<Selection.Verdict> v = Selection.decide(0.8900, CANDIDATES, new Selection.Constraints(1.0, 0, 0));
        // within 1 point: int8, pruned, student-int8; smallest 220,000 twice: the more accurate wins
        assertEquals(
                List.of(false, false, false, false, true),
                v.stream().map(Selection.Verdict::chosen).toList());
        assertEquals(0.2, v.get(0).accuracyDropPoints(), 1e-9);
        assertEquals(2.0, v.get(2).accuracyDropPoints(), 1e-9);
        assertEquals("rejected: accuracy drop 2.00 > 1.00 points", v.get(2).decision());
        assertEquals(
                "chosen: the smallest of 3 candidates meeting the constraints",
                v.get(4).decision());
        assertEquals(
                "meets the constraints, larger than student-int8 (500,000 > 220,000 bytes)",
                v.get(0).decision());
        assertEquals(
                "meets the constraints; student-int8 is as small and more accurate",
                v.get(1).decision());
    }

    @Test
    void sizeAndLatencyLimitsAndNoLimitAtAll() {
        List<Selection.Verdict> v = Selection.decide(0.8900, CANDIDATES, new Selection.Constraints(2.0, 100_000, 0.1));
        // size <= 100,000: pruned-int8 (drop 2.00 allowed) and student; latency <= 0.1: student only
        assertTrue(v.get(3).chosen());
        assertEquals(
                List.of("size 500,000 > 100,000 bytes", "latency 0.200 > 0.100 ms"),
                v.get(0).violations());
        assertEquals(List.of("latency 0.200 > 0.100 ms"), v.get(2).violations());
        assertEquals(
                List.of("size 220,000 > 100,000 bytes", "latency not measured"),
                v.get(4).violations());

        List<Selection.Verdict> any = Selection.decide(0.8900, CANDIDATES, new Selection.Constraints(-1, 0, 0));
        assertTrue(any.get(3).chosen(), "no limits: the smallest");

        List<Selection.Verdict> noDrop = Selection.decide(0.8890, CANDIDATES, new Selection.Constraints(0, 0, 0));
        // a limit of 0 points allows no drop: only student-int8 (0.8890) matches the source exactly
        assertEquals(
                List.of(false, false, false, false, true),
                noDrop.stream().map(Selection.Verdict::chosen).toList());

        List<Selection.Verdict> none = Selection.decide(0.8900, CANDIDATES, new Selection.Constraints(0.05, 0, 0));
        assertFalse(none.stream().anyMatch(Selection.Verdict::chosen), "nothing within 0.05 points");
    }

    @Test
    void anUnmeasuredAccuracyNeverWins() {
        List<Selection.Measured> withNaN = List.of(
                new Selection.Measured("broken", Double.NaN, 1_000, 0.1),
                new Selection.Measured("int8", 0.8880, 500_000, 0.2));
        List<Selection.Verdict> v = Selection.decide(0.8900, withNaN, new Selection.Constraints(-1, 0, 0));
        assertEquals(List.of("accuracy not measured"), v.get(0).violations());
        assertFalse(v.get(0).paretoOptimal());
        assertTrue(v.get(1).chosen());
        assertTrue(v.get(1).paretoOptimal());
    }

    @Test
    void paretoFrontOfAccuracyAgainstSize() {
        List<Selection.Verdict> v = Selection.decide(0.8900, CANDIDATES, new Selection.Constraints(-1, 0, 0));
        // int8 (0.888 at 500k) is beaten by student-int8 (0.889 at 220k); pruned (0.887 at 220k) too;
        // pruned-int8 (0.870 at 95k) by student (0.876 at 40k)
        assertEquals(
                List.of(false, false, false, true, true),
                v.stream().map(Selection.Verdict::paretoOptimal).toList());
    }

    @Test
    void sizesWithinOnePercentAreATieDecidedByAccuracy() {
        // two int8 files of the same model differ by the length of a compressed stream: 494,394 and 494,395 bytes
        List<Selection.Measured> close = List.of(
                new Selection.Measured("int8:percentile", 0.8898, 494_395, 0.4),
                new Selection.Measured("int8:entropy", 0.8904, 494_399, 0.4),
                new Selection.Measured("int8:minmax", 0.8880, 499_338, 0.4), // 0.9999 % larger: a tie too
                new Selection.Measured("pruned", 0.8999, 499_400, 0.4)); // 1.01 % larger: not a tie
        List<Selection.Verdict> v = Selection.decide(0.8900, close, new Selection.Constraints(1.0, 0, 0));
        assertEquals(
                List.of(false, true, false, false),
                v.stream().map(Selection.Verdict::chosen).toList());
        assertEquals(
                "chosen: the most accurate of 3 candidates within 1 % of the smallest size (494,395 bytes, a"
                        + " tie), of 4 meeting the constraints",
                v.get(1).decision());
        assertEquals(
                "meets the constraints; int8:entropy is within 1 % of its size (494,399 vs 494,395 bytes, a"
                        + " tie) and more accurate",
                v.get(0).decision());
        assertEquals(
                "meets the constraints, larger than int8:entropy (499,400 > 494,399 bytes)",
                v.get(3).decision());
    }

    @Test
    void aRegressionPlanIsJudgedByTheRelativeMseIncreaseAndR2() {
        // source mse 0.1000 (r2 0.96); the limit: 5 % more MSE, r2 at least 0.95
        Selection.Measured source = new Selection.Measured("source", Double.NaN, 0.1000, 0.96, 2_000, 0.1);
        List<Selection.Measured> candidates = List.of(
                new Selection.Measured("int8:percentile", Double.NaN, 0.1040, 0.958, 1_000, 0.1), // +4 %
                new Selection.Measured("int8:entropy", Double.NaN, 0.1030, 0.959, 1_005, 0.1), // +3 %, a size tie
                new Selection.Measured("pruned", Double.NaN, 0.1200, 0.952, 500, 0.1), // +20 %
                new Selection.Measured("student", Double.NaN, 0.1045, 0.940, 400, 0.1), // +4.5 %, r2 too low
                new Selection.Measured("broken", Double.NaN, Double.NaN, Double.NaN, 100, 0.1));
        List<Selection.Verdict> v = Selection.decide(
                io.compactml.common.data.Task.REGRESSION,
                source,
                candidates,
                new Selection.Constraints(1.0, 0, 0, 0.05, 0.95));
        assertEquals(
                List.of(false, true, false, false, false),
                v.stream().map(Selection.Verdict::chosen).toList());
        assertEquals(0.04, v.get(0).mseIncrease(), 1e-12);
        assertTrue(Double.isNaN(v.get(0).accuracyDropPoints()));
        assertEquals(
                "chosen: the lowest-MSE of 2 candidates within 1 % of the smallest size (1,000 bytes, a tie), of 2"
                        + " meeting the constraints",
                v.get(1).decision());
        assertEquals(
                "meets the constraints; int8:entropy is within 1 % of its size (1,005 vs 1,000 bytes, a tie) and of"
                        + " lower MSE",
                v.get(0).decision());
        assertEquals(
                "rejected: mse 0.1200 is +20.00 % of the source's 0.1000 > +5.00 %",
                v.get(2).decision());
        assertEquals("rejected: r2 0.9400 < 0.9500", v.get(3).decision());
        assertEquals("rejected: mse not measured; r2 not measured", v.get(4).decision());
        // the front of MSE against size: student at 400 bytes, then int8:percentile and int8:entropy, each better
        // than every smaller one; pruned is larger and worse than the student, broken has no MSE
        assertEquals(
                List.of(true, true, false, true, false),
                v.stream().map(Selection.Verdict::paretoOptimal).toList());
    }
}
