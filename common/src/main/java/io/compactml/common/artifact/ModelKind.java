package io.compactml.common.artifact;

import io.compactml.common.config.Choice;

/**
 * The kinds of model CompactML makes from a source model, each with its file format, the suffix of its name (the
 * int8 model of {@code fmnist-mlp} is {@code fmnist-mlp-int8}) and the technique its artifact records. These are
 * the values of {@code publish.model}.
 */
public enum ModelKind implements Choice {
    /** The source model itself (a trained baseline). */
    FLOAT(ModelFormat.DL4J_ZIP, "", "baseline"),
    /** Post-training int8 quantization ({@code quantize}). */
    INT8(ModelFormat.INT8, "-int8", "int8"),
    /** A pruned model stored sparse ({@code prune}). */
    PRUNED(ModelFormat.SPARSE, "-pruned", "pruned"),
    /** A distilled student, a plain DL4J model ({@code distill}). */
    STUDENT(ModelFormat.DL4J_ZIP, "-student", "distilled");

    private final ModelFormat format;
    private final String suffix;
    private final String technique;

    ModelKind(ModelFormat format, String suffix, String technique) {
        this.format = format;
        this.suffix = suffix;
        this.technique = technique;
    }

    public ModelFormat format() {
        return format;
    }

    /** What the artifact's manifest and the {@code artifacts} table record as the technique. */
    public String technique() {
        return technique;
    }

    /** The name a model of this kind made from the model named {@code source} is recorded and published under. */
    public String nameFor(String source) {
        return source + suffix;
    }
}
