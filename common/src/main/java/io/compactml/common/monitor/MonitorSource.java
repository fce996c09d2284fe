package io.compactml.common.monitor;

import io.compactml.common.config.Choice;

/** What {@code monitor} reads ({@code monitor.source}). */
public enum MonitorSource implements Choice {
    /** The rows {@code serve} logged to {@code serve.log-uri} (a Delta table), in the configured time window. */
    INFERENCE_LOG,
    /** The data set {@code data.monitor.*} (any format the jobs read; with labels, accuracy is checked too). */
    DATA
}
