package io.compactml.jobs.monitor;

import io.compactml.jobs.tables.DriftRow;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What one {@code monitor} run found: the window, its rows, every {@code drift} row, and the verdict. The command
 * exits {@value #DRIFT_EXIT_CODE} when {@link #drifted()}, so that a scheduler can branch on it.
 */
public record DriftReport(String model, String version, String window, long rows, List<DriftRow> drift) {
    /** The exit code of a run whose window drifted. */
    public static final int DRIFT_EXIT_CODE = 3;

    public boolean drifted() {
        return drift.stream().anyMatch(DriftRow::drifted);
    }

    /** The drifted rows, the furthest over its threshold first. */
    public List<DriftRow> worst() {
        return MonitorJob.worstFirst(drift);
    }

    /** One line: the verdict and the worst tensors. */
    public String summary() {
        if (drift.isEmpty()) {
            return String.format(Locale.ROOT, "%s %s, %s: %,d rows, no verdict", model, version, window, rows);
        }
        if (!drifted()) {
            return String.format(Locale.ROOT, "%s %s, %s: %,d rows, no drift", model, version, window, rows);
        }
        return String.format(
                Locale.ROOT,
                "%s %s, %s: %,d rows, DRIFT in %s",
                model,
                version,
                window,
                rows,
                worst().stream()
                        .limit(5)
                        .map(r -> String.format(
                                Locale.ROOT,
                                "%s %s %.4g %s %.4g",
                                r.tensor(),
                                r.metric(),
                                r.value(),
                                r.metric().equals("accuracy") ? "<" : ">",
                                r.threshold()))
                        .collect(Collectors.joining("; ")));
    }
}
