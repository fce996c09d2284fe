package io.compactml.common.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RegressionTallyTest {

    @Test
    void handWorkedErrors() {
        // predictions 1, 2, 3 for targets 1, 3, 5: errors 0, -1, -2
        // mse = (0 + 1 + 4) / 3; mae = (0 + 1 + 2) / 3 = 1; target mean 3, SST = 4 + 0 + 4 = 8, r2 = 1 - 5/8
        RegressionTally t = new RegressionTally();
        t.add(new float[] {1}, new float[] {1});
        RegressionTally u = new RegressionTally();
        u.add(new float[] {2}, new float[] {3});
        u.add(new float[] {3}, new float[] {5});
        Map<String, Double> m = t.merge(u).metrics();
        assertEquals(5.0 / 3, m.get("mse"), 1e-12);
        assertEquals(Math.sqrt(5.0 / 3), m.get("rmse"), 1e-12);
        assertEquals(1.0, m.get("mae"), 1e-12);
        assertEquals(0.375, m.get("r2"), 1e-12);
        assertEquals(3.0, m.get("examples"));
    }
}
