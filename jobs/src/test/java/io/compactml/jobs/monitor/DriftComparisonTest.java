package io.compactml.jobs.monitor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The accuracy alarm against hand-worked thresholds: a drop the window's size cannot tell from noise is none. */
class DriftComparisonTest {
    @Test
    void accuracyAlarmAllowsForTheWindowsSamplingError() {
        // 86.4 % recorded, 84.2 % on 1,000 rows: SE = sqrt(0.842 * 0.158 / 1000) = 0.011534;
        // threshold = 0.864 - 0.02 - 3 * 0.011534 = 0.809397: 2.2 points down is noise on 1,000 rows
        double small = DriftComparison.accuracyThreshold(0.864, 0.842, 1_000, 2.0);
        assertEquals(0.809397, small, 1e-6);
        assertTrue(0.842 > small);
        // the same accuracy on a million rows: SE = 0.000365, threshold 0.842906, an alarm
        double large = DriftComparison.accuracyThreshold(0.864, 0.842, 1_000_000, 2.0);
        assertEquals(0.842906, large, 1e-6);
        assertTrue(0.842 < large);
    }
}
