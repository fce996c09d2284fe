package io.compactml.common.artifact;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.compactml.common.onnx.OnnxSignature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json}: what an artifact is, where it came from and the sha256 of every file in it. Written
 * last, so an artifact directory without a manifest does not exist.
 *
 * @param name              model name
 * @param version           immutable version
 * @param technique         baseline, int8, pruned, distilled, ...
 * @param format            the format of the model file ({@link ModelFormat#id()}), which the first of {@code files}
 *                          is
 * @param createdAt         ISO-8601 instant
 * @param runId             the run that published it
 * @param sourceModelSha256 sha256 of the model it was made from (the model itself for a baseline)
 * @param projectVersion    CompactML version
 * @param config            effective config of the producing run, secrets masked
 * @param data              data set names and locations used for training and evaluation
 * @param metrics           evaluation metrics, name to value
 * @param files             every file of the artifact except the manifest: the model file, then {@code model.onnx}
 * @param onnx              what {@code model.onnx} takes and gives (null in artifacts published before it existed)
 * @param inputScaling      the per-feature scaling the model applies to its raw input rows (null when it takes its
 *                          inputs as they are)
 * @param classNames        a classifier trained with {@code label-mapping = auto}: output {@code i} is class
 *                          {@code classNames.get(i)} (null when its outputs are class indices, or for regression)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
        String name,
        String version,
        String technique,
        String format,
        String createdAt,
        String runId,
        String sourceModelSha256,
        String projectVersion,
        Map<String, Object> config,
        Map<String, String> data,
        Map<String, Double> metrics,
        List<FileEntry> files,
        OnnxSignature onnx,
        InputScaling inputScaling,
        List<String> classNames) {

    public static final String FILE_NAME = "manifest.json";

    /**
     * What the model does to a raw input row before its first layer ({@code FeatureScaling}, inside the model and
     * its {@code model.onnx}): {@code x'_j = (x_j - shift_j) * factor_j}.
     *
     * @param method standardize or minmax
     * @param shift  [features]: the training data's mean (standardize) or minimum (minmax)
     * @param factor [features]: 1 / std or 1 / (max - min); 1 for a feature without spread
     */
    public record InputScaling(String method, float[] shift, float[] factor) {}

    /** One file of an artifact: its path relative to the artifact directory, size in bytes and sha256. */
    public record FileEntry(String path, long size, String sha256) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Manifest fromJson(byte[] json) throws IOException {
        return JSON.readValue(json, Manifest.class);
    }
}
