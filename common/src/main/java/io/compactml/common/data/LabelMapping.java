package io.compactml.common.data;

import io.compactml.common.config.Choice;

/** How the label column's values become class indices ({@code data.<split>.label-mapping}). */
public enum LabelMapping implements Choice {
    /** The labels are class indices 0..k-1 already (or regression targets). */
    INDEX,
    /**
     * The labels are class names (text, or numbers that are not indices): {@code train} builds the vocabulary, the
     * distinct values of {@code data.train}'s label column sorted (numerically for a numeric column, else by their
     * text, as scikit-learn's {@code LabelEncoder}), and stores it in the model
     * ({@link io.compactml.common.model.ClassNames}); class {@code i} is the {@code i}-th name on every split.
     */
    AUTO
}
