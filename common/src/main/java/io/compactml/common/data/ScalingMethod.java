package io.compactml.common.data;

import io.compactml.common.config.Choice;

/** How raw feature values become network inputs ({@code data.<split>.scaling}). */
public enum ScalingMethod implements Choice {
    /** Features as stored. */
    NONE,
    /** Features divided by {@code divisor} (255 for pixels). */
    DIVIDE,
    /**
     * Per feature, {@code (x - mean) / std} with the statistics of {@code data.train}, which {@code train} computes
     * and stores in the model ({@link io.compactml.common.model.FeatureScaling}): the model takes raw rows.
     */
    STANDARDIZE,
    /** Per feature, {@code (x - min) / (max - min)} over {@code data.train}, stored in the model like standardize. */
    MINMAX;

    /** Whether the model applies it (its statistics stored with the model) rather than the data reader. */
    public boolean storedInModel() {
        return this == STANDARDIZE || this == MINMAX;
    }
}
