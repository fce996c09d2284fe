package io.compactml.common.model;

import io.compactml.common.config.Choice;

/** The architectures {@link NetworkSpec} builds ({@code network.type}, {@code distill.student.type}). */
public enum NetworkType implements Choice {
    /** Dense ReLU layers. */
    MLP,
    /** 3x3 ReLU convolutions each followed by 2x2 max-pooling, then a dense ReLU layer. */
    CNN
}
