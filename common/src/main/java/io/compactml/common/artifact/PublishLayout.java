package io.compactml.common.artifact;

import io.compactml.common.config.Choice;

/** What {@code publish} writes ({@code publish.layout}). */
public enum PublishLayout implements Choice {
    /** The artifact only: {@code <artifacts.root>/<model>/<version>/}, the model file, {@code model.onnx}, the manifest. */
    ARTIFACT,
    /** The artifact, and its {@code model.onnx} in a Triton model repository ({@link TritonRepository}). */
    TRITON
}
