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
}
