package io.compactml.common.data;

import io.compactml.common.config.Choice;

/** How raw feature values become network inputs ({@code data.<split>.scaling}). */
public enum ScalingMethod implements Choice {
    /** Features as stored. */
    NONE,
    /** Features divided by {@code divisor} (255 for pixels). */
    DIVIDE
}
