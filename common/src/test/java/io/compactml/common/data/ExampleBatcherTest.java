package io.compactml.common.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

class ExampleBatcherTest {

    private static ExampleBatcher classifier(int batch) {
        return new ExampleBatcher(
                "toy", "px", 2, 3, Task.CLASSIFICATION, new Scaling(255.0, ScalingMethod.DIVIDE), batch);
    }

    @Test
    void emitsFullBatchesScaledWithOneHotLabels() {
        ExampleBatcher b = classifier(2);
        assertNull(b.add(0, new float[] {0f, 255f}, 2));
        DataSet ds = b.add(1, new float[] {51f, 102f}, 0);
        assertArrayEquals(
                new float[][] {{0f, 1f}, {0.2f, 0.4f}}, ds.getFeatures().toFloatMatrix());
        assertArrayEquals(new float[][] {{0, 0, 1}, {1, 0, 0}}, ds.getLabels().toFloatMatrix());
        assertNull(b.flush(), "nothing left after a full batch");
    }

    @Test
    void flushReturnsTheRemainder() {
        ExampleBatcher b = classifier(4);
        b.add(0, new float[] {1, 1}, 1);
        DataSet last = b.flush();
        assertEquals(1, last.numExamples());
    }

    @Test
    void regressionKeepsTheTargetAsIs() {
        ExampleBatcher b = new ExampleBatcher("toy", "x", 1, 1, Task.REGRESSION, Scaling.NONE, 1);
        DataSet ds = b.add(0, new float[] {3f}, -2.5);
        assertArrayEquals(new float[][] {{-2.5f}}, ds.getLabels().toFloatMatrix());
    }

    @Test
    void badRowsAreNamed() {
        String range = assertThrows(
                        CompactMLException.class, () -> classifier(8).add(7, new float[] {1, 1}, 3))
                .getMessage();
        assertEquals(
                "Dataset toy, row 7: label 3.0 is not a class index in [0, 2]. Fix the data or set"
                        + " 'network.outputs' to the number of classes.",
                range);
        assertThrows(CompactMLException.class, () -> classifier(8).add(0, new float[] {1, 1}, 1.5));
        String nan = assertThrows(CompactMLException.class, () -> classifier(8).add(4, new float[] {Float.NaN, 1}, 0))
                .getMessage();
        assertTrue(nan.contains("row 4") && nan.contains("NaN"), nan);
        CompactMLException shape =
                assertThrows(CompactMLException.class, () -> classifier(8).add(0, new float[] {1, 2, 3}, 0));
        assertEquals(
                "Model expects 2 inputs, dataset toy column 'px' has 3. Use a dataset and a model of the same"
                        + " shape.",
                shape.getMessage());
        assertEquals(2, shape.exitCode());
    }
}
