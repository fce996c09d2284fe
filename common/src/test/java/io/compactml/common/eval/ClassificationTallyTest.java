package io.compactml.common.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ClassificationTallyTest {

    /**
     * Four examples over three classes, worked by hand:
     * <pre>
     * true  probs             argmax  rank of true  p_true
     *  0    (0.7, 0.2, 0.1)   0       1             0.7
     *  1    (0.5, 0.4, 0.1)   0       2             0.4
     *  2    (0.3, 0.3, 0.4)   2       1             0.4
     *  2    (0.1, 0.6, 0.3)   1       2             0.3
     * </pre>
     * accuracy 2/4; top-2 4/4; top-1 equals accuracy; loss = -(ln .7 + ln .4 + ln .4 + ln .3) / 4 = 0.848307
     * class 0: predicted twice, right once: precision 1/2, recall 1/1; class 1: predicted once, wrong:
     * precision 0, recall 0; class 2: predicted once, right: precision 1, recall 1/2.
     */
    private static ClassificationTally handWorked(int k) {
        ClassificationTally t = new ClassificationTally(3, k);
        t.add(new float[] {0.7f, 0.2f, 0.1f}, 0);
        t.add(new float[] {0.5f, 0.4f, 0.1f}, 1);
        t.add(new float[] {0.3f, 0.3f, 0.4f}, 2);
        t.add(new float[] {0.1f, 0.6f, 0.3f}, 2);
        return t;
    }

    @Test
    void metricsMatchTheHandWorkedCase() {
        Map<String, Double> m = handWorked(2).metrics();
        assertEquals(4.0, m.get("examples"));
        assertEquals(0.5, m.get("accuracy"), 1e-12);
        assertEquals(1.0, m.get("top2_accuracy"), 1e-12);
        assertEquals(0.848307, m.get("loss"), 1e-6);
        assertEquals(0.5, m.get("precision_0"), 1e-12);
        assertEquals(1.0, m.get("recall_0"), 1e-12);
        assertEquals(0.0, m.get("precision_1"), 1e-12);
        assertEquals(0.0, m.get("recall_1"), 1e-12);
        assertEquals(1.0, m.get("precision_2"), 1e-12);
        assertEquals(0.5, m.get("recall_2"), 1e-12);
        // F1: class 0 = 2/3, class 1 = 0, class 2 = 2/3
        assertEquals((2.0 / 3 + 0 + 2.0 / 3) / 3, m.get("macro_f1"), 1e-12);
        assertEquals(0.5, handWorked(1).metrics().get("top1_accuracy"), 1e-12, "top-1 is accuracy");
    }

    @Test
    void mergeEqualsOneTallyOverAllExamples() {
        ClassificationTally a = new ClassificationTally(3, 2);
        a.add(new float[] {0.7f, 0.2f, 0.1f}, 0);
        a.add(new float[] {0.5f, 0.4f, 0.1f}, 1);
        ClassificationTally b = new ClassificationTally(3, 2);
        b.add(new float[] {0.3f, 0.3f, 0.4f}, 2);
        b.add(new float[] {0.1f, 0.6f, 0.3f}, 2);
        ClassificationTally merged = b.merge(a);
        assertEquals(handWorked(2).metrics(), merged.metrics());
        assertArrayEquals(new long[][] {{1, 0, 0}, {1, 0, 0}, {0, 1, 1}}, merged.confusion());
        assertEquals(2, a.count(), "merge leaves its inputs alone");
    }
}
