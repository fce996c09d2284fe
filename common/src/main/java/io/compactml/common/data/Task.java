package io.compactml.common.data;

import io.compactml.common.config.Choice;

/** What the network predicts: a class index (softmax + cross-entropy) or real targets (identity + MSE). */
public enum Task implements Choice {
    CLASSIFICATION,
    REGRESSION;

    /** The metric a model of this task is judged by: {@code accuracy} (higher is better) or {@code mse} (lower). */
    public String metric() {
        return this == CLASSIFICATION ? "accuracy" : "mse";
    }

    /** Whether metric value {@code a} is better than {@code b} for this task. */
    public boolean better(double a, double b) {
        return this == CLASSIFICATION ? a > b : a < b;
    }

    /**
     * The quality of an evaluation as people read it: {@code accuracy 0.8812} for a classifier, {@code mse 0.1061,
     * r2 0.9626} for a regression model (from whichever of those metrics {@code metrics} holds).
     */
    public static String describe(java.util.Map<String, Double> metrics) {
        Double acc = metrics.get("accuracy");
        if (acc != null && !acc.isNaN()) {
            return String.format(java.util.Locale.ROOT, "accuracy %.4f", acc);
        }
        return String.format(
                java.util.Locale.ROOT,
                "mse %.4g, r2 %.4f",
                metrics.getOrDefault("mse", Double.NaN),
                metrics.getOrDefault("r2", Double.NaN));
    }
}
