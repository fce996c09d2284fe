package io.compactml.common.eval;

import io.compactml.common.config.Choice;

/**
 * What runs a model when CompactML measures it ({@code evaluate.runtime}): ONNX Runtime on the model's ONNX form,
 * as a model server runs it (the default: the accuracy and latency recorded are the served model's), or DL4J on
 * the model's own format (int8 models simulated: every boundary quantized and dequantized).
 */
public enum ServingRuntime implements Choice {
    DL4J,
    ONNXRUNTIME
}
