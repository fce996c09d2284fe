package io.compactml.jobs.tables;

import io.delta.tables.DeltaTable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The CompactML Delta tables, path-based under {@code tables.root}, and the two ways rows get there:
 * {@link #replace} (the rows of one scope, e.g. one run, replace that scope's earlier rows, atomically) and
 * {@link #upsert} (MERGE on the table's keys). Either way a rerun of a run id leaves the table as one run would.
 */
public final class Tables {
    private final SparkSession spark;
    private final String root;

    public Tables(SparkSession spark, String root) {
        this.spark = spark;
        this.root = root;
    }

    public String path(Table t) {
        return new Path(root, t.tableName()).toString();
    }

    public boolean exists(Table t) {
        return DeltaTable.isDeltaTable(spark, path(t));
    }

    /** The whole table. */
    public Dataset<Row> read(Table t) {
        return spark.read().format("delta").load(path(t));
    }

    /** The rows of {@code scope}; none when the table does not exist yet. */
    public Dataset<Row> read(Table t, Scope scope) {
        return exists(t) ? read(t).filter(scope.condition()) : spark.createDataFrame(List.of(), t.schema());
    }

    /** The rows of {@code scope} as records. */
    public <R extends TableRow> List<R> rows(Table t, Scope scope, Class<R> type) {
        checkType(t, type);
        RowCodec<R> codec = RowCodec.of(type);
        return read(t, scope).collectAsList().stream().map(codec::fromRow).collect(Collectors.toList());
    }

    /** Records as a DataFrame of {@code t}'s schema. */
    public Dataset<Row> frame(Table t, List<? extends TableRow> rows) {
        List<Row> out = new ArrayList<>(rows.size());
        for (TableRow r : rows) {
            checkType(t, r.getClass());
            out.add(r.toRow());
        }
        return spark.createDataFrame(out, t.schema());
    }

    /**
     * Replaces the rows of {@code scope} (key columns of {@code t}) by {@code rows}, in one Delta commit. Every row
     * must be in the scope (Delta checks it).
     */
    public void replace(Table t, List<? extends TableRow> rows, Scope scope) {
        replace(t, frame(t, rows), scope);
    }

    /** {@link #replace(Table, List, Scope)} for rows computed on the executors, written by them. */
    public void replace(Table t, Dataset<Row> df, Scope scope) {
        if (!t.keys().containsAll(scope.columns())) {
            throw new IllegalArgumentException("a replace of " + t.tableName() + " is scoped by its keys " + t.keys()
                    + ", not " + scope.columns());
        }
        if (!exists(t)) {
            df.write().format("delta").mode("append").save(path(t));
            return;
        }
        // mergeSchema: a table written by an earlier version gains the columns added since (nullable)
        df.write()
                .format("delta")
                .mode("overwrite")
                .option("mergeSchema", "true")
                .option("replaceWhere", scope.predicate())
                .save(path(t));
    }

    /** MERGE on the table's keys: matching rows are updated, others inserted. */
    public void upsert(Table t, List<? extends TableRow> rows) {
        Dataset<Row> df = frame(t, rows);
        if (!exists(t)) {
            df.write().format("delta").mode("append").save(path(t));
            return;
        }
        String on = t.keys().stream()
                .map(k -> "t." + Scope.quoted(k) + " = s." + Scope.quoted(k))
                .collect(Collectors.joining(" AND "));
        DeltaTable.forPath(spark, path(t))
                .as("t")
                .merge(df.as("s"), on)
                .whenMatched()
                .updateAll()
                .whenNotMatched()
                .insertAll()
                .execute();
    }

    private static void checkType(Table t, Class<?> type) {
        if (t.rowType() != type) {
            throw new IllegalArgumentException(type.getSimpleName() + " is not a row of " + t.tableName());
        }
    }
}
