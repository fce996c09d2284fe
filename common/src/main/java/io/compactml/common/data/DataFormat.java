package io.compactml.common.data;

import io.compactml.common.config.Choice;

/** How a data set is stored ({@code data.<split>.format}). */
public enum DataFormat implements Choice {
    /** MNIST-style IDX files, gzipped or raw: {@code uri} the images, {@code labels-uri} the labels. */
    IDX,
    /** A Parquet table with a features column and a label column. */
    PARQUET,
    /** A CSV file or directory with a header row. */
    CSV
}
