package io.compactml.common.data;

import io.compactml.common.config.CompactConfig;
import java.io.Serializable;

/**
 * Where a data set is and how to read it, from the {@code data.<split>.*} keys.
 *
 * @param key        the config prefix it came from ({@code data.train}), for error messages
 * @param name       name recorded in the tables
 * @param uri        data location (any Hadoop path)
 * @param format     {@code idx}, {@code parquet} or {@code csv}
 * @param labelsUri  for idx: the labels file
 * @param features   features column, or a glob over numbered columns
 * @param label      label column
 * @param scaling    how raw values become inputs
 * @param limit      first N examples only (0 = all)
 * @param partitions Spark partitions (0 = default parallelism)
 */
public record DatasetSpec(String key, String name, String uri, String format, String labelsUri, String features,
                          String label, Scaling scaling, int limit, int partitions) implements Serializable {

    public static DatasetSpec from(CompactConfig c, String split) {
        String p = "data." + split + ".";
        Scaling scaling = c.getString(p + "scaling").equals("divide")
                ? new Scaling(c.getDouble(p + "divisor")) : Scaling.NONE;
        return new DatasetSpec("data." + split, c.getString(p + "name"), c.getString(p + "uri"),
                c.getString(p + "format"), c.getString(p + "labels-uri"), c.getString(p + "features"),
                c.getString(p + "label"), scaling, c.getInt(p + "limit"), c.getInt(p + "partitions"));
    }
}
