package io.compactml.common.data;

import io.compactml.common.config.CompactConfig;
import java.io.Serializable;

/**
 * Where a data set is and how to read it, from the {@code data.<split>.*} keys.
 *
 * @param key        the config prefix it came from ({@code data.train}), for error messages
 * @param name       name recorded in the tables
 * @param uri        data location (any Hadoop path)
 * @param format     how the data is stored
 * @param labelsUri  for idx: the labels file
 * @param features   features column, or a glob over numbered columns
 * @param label      label column
 * @param labelMapping how label values become class indices
 * @param classes    with {@code auto}: the class names of the model the data is read for (class {@code i} is
 *                   {@code classes.get(i)}), null until a job sets them ({@link #withClasses})
 * @param scaling    how raw values become inputs
 * @param limit      first N examples only (0 = all)
 * @param partitions Spark partitions (0 = default parallelism)
 */
public record DatasetSpec(
        String key,
        String name,
        String uri,
        DataFormat format,
        String labelsUri,
        String features,
        String label,
        LabelMapping labelMapping,
        java.util.List<String> classes,
        Scaling scaling,
        int limit,
        int partitions)
        implements Serializable {

    public static DatasetSpec from(CompactConfig c, String split) {
        String p = "data." + split + ".";
        ScalingMethod method = c.getEnum(p + "scaling", ScalingMethod.class);
        Scaling scaling = new Scaling(method == ScalingMethod.DIVIDE ? c.getDouble(p + "divisor") : 1.0, method);
        return new DatasetSpec(
                "data." + split,
                c.getString(p + "name"),
                c.getString(p + "uri"),
                c.getEnum(p + "format", DataFormat.class),
                c.getString(p + "labels-uri"),
                c.getString(p + "features"),
                c.getString(p + "label"),
                c.getEnum(p + "label-mapping", LabelMapping.class),
                null,
                scaling,
                c.getInt(p + "limit"),
                c.getInt(p + "partitions"));
    }

    /** This data set read for a model whose class {@code i} is {@code classes.get(i)} (null: none). */
    public DatasetSpec withClasses(java.util.List<String> classes) {
        return new DatasetSpec(
                key,
                name,
                uri,
                format,
                labelsUri,
                features,
                label,
                labelMapping,
                classes == null ? null : java.util.List.copyOf(classes),
                scaling,
                limit,
                partitions);
    }

    /** This data set, its first {@code limit} examples only (0 = all). */
    public DatasetSpec withLimit(int limit) {
        return new DatasetSpec(
                key, name, uri, format, labelsUri, features, label, labelMapping, classes, scaling, limit, partitions);
    }

    /** Whether the examples have labels: an IDX labels file, or a label column. */
    public boolean labeled() {
        return format == DataFormat.IDX ? !labelsUri.isBlank() : !label.isBlank();
    }

    /** The config key that names the labels: {@code <key>.labels-uri} for IDX files, else {@code <key>.label}. */
    public String labelKey() {
        return key + (format == DataFormat.IDX ? ".labels-uri" : ".label");
    }

    /** What the features are called in messages: the images of IDX files, else the features column. */
    public String featuresName() {
        return format == DataFormat.IDX ? "images" : features;
    }
}
