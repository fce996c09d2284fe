package io.compactml.common.data;

/** What the network predicts: a class index (softmax + cross-entropy) or real targets (identity + MSE). */
public enum Task {
    CLASSIFICATION, REGRESSION;

    public static Task parse(String s) {
        return valueOf(s.toUpperCase(java.util.Locale.ROOT));
    }
}
