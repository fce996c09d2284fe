package io.compactml.common.monitor;

import io.compactml.common.config.CompactConfig;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * What {@code monitor} checks ({@code monitor.*}) and when it raises an alarm.
 *
 * @param model               published model; empty means {@code model.name}
 * @param version             its version; empty means the one {@code LATEST} names
 * @param source              the inference log or a data set
 * @param windowStart         inference-log window start, inclusive (null: open)
 * @param windowEnd           inference-log window end, exclusive (null: open)
 * @param referenceRun        calibration run of the reference statistics; empty means the newest
 * @param method              calibration method of the clip ranges; empty means the artifact's
 * @param quantiles           reference quantile bins of PSI and JS
 * @param psiThreshold        PSI above which a tensor drifted
 * @param jsThreshold         Jensen-Shannon distance above which a tensor drifted
 * @param saturationFactor    saturation rate alarm: above factor x the calibration set's rate + margin
 * @param saturationMargin    the margin, a share of values
 * @param predictionThreshold PSI of the predicted-class distribution above which predictions drifted
 * @param maxAccuracyDrop     points of accuracy below the manifest's that count as drift (with labels)
 * @param referenceLimit      rows of data.calibration for the reference predicted-class distribution
 * @param minRows             fewest window rows that get a verdict
 */
public record MonitorSettings(
        String model,
        String version,
        MonitorSource source,
        Instant windowStart,
        Instant windowEnd,
        String referenceRun,
        String method,
        int quantiles,
        double psiThreshold,
        double jsThreshold,
        double saturationFactor,
        double saturationMargin,
        double predictionThreshold,
        double maxAccuracyDrop,
        int referenceLimit,
        int minRows) {

    /**
     * Reads {@code monitor.*}.
     *
     * @throws io.compactml.common.CompactMLException (usage) when a window bound is not an ISO-8601 instant
     */
    public static MonitorSettings from(CompactConfig c) {
        return new MonitorSettings(
                c.getString("monitor.model").isEmpty() ? c.getString("model.name") : c.getString("monitor.model"),
                c.getString("monitor.version"),
                c.getEnum("monitor.source", MonitorSource.class),
                instant(c, "monitor.window-start"),
                instant(c, "monitor.window-end"),
                c.getString("monitor.reference-run"),
                c.getString("monitor.method"),
                c.getInt("monitor.quantiles"),
                c.getDouble("monitor.psi-threshold"),
                c.getDouble("monitor.js-threshold"),
                c.getDouble("monitor.saturation-factor"),
                c.getDouble("monitor.saturation-margin"),
                c.getDouble("monitor.prediction-psi-threshold"),
                c.getDouble("monitor.max-accuracy-drop"),
                c.getInt("monitor.reference-limit"),
                c.getInt("monitor.min-rows"));
    }

    private static Instant instant(CompactConfig c, String key) {
        String v = c.getString(key);
        if (v.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw io.compactml.common.Errors.badConfigValue(key, v, "an ISO-8601 instant such as 2026-12-01T00:00:00Z");
        }
    }

    /** The saturation rate above which a tensor drifted, for a calibration set's own rate. */
    public double saturationThreshold(double calibrationRate) {
        return saturationFactor * calibrationRate + saturationMargin;
    }

    /** The window in words, for the {@code drift} table. */
    public String describeWindow(String dataName) {
        if (source == MonitorSource.DATA) {
            return "data:" + dataName;
        }
        return "inference-log:[" + (windowStart == null ? "" : windowStart) + ", "
                + (windowEnd == null ? "" : windowEnd) + ")";
    }
}
