package io.compactml.jobs.tables;

import org.apache.spark.sql.Row;

/**
 * A row of one of the {@link Table}s, as a record whose components are the table's columns in order
 * ({@link RowCodec} derives the schema from it). Spark ML persists models the same way, with a typed
 * {@code case class Data(...)} as the row.
 */
public interface TableRow {
    /** This record as a Spark row of its table's schema. */
    default Row toRow() {
        return RowCodec.of(getClass()).toRow(this);
    }
}
