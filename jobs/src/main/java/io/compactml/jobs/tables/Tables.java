package io.compactml.jobs.tables;

import io.delta.tables.DeltaTable;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CompactML Delta tables, path-based under {@code tables.root}, and the two ways rows get there:
 * {@link #replace} (the rows of one scope, e.g. one run, replace that scope's earlier rows, atomically) and
 * {@link #upsert} (MERGE on the table's keys). Either way a rerun of a run id leaves the table as one run would.
 *
 * <p>Jobs of different runs write the same tables at once (the compression DAG runs its branches in parallel).
 * Delta's optimistic concurrency then refuses the later of two commits whose reads might overlap: on an
 * unpartitioned table a replace or a MERGE reads every file, so any concurrent append conflicts
 * ({@code ConcurrentAppendException}), and two first writes of a new table race for version 0
 * ({@code ProtocolChangedException}). Both writes are idempotent for their scope, so a refused commit is planned
 * and committed again against the new snapshot, after a randomized exponential backoff, up to
 * {@value #ATTEMPTS} attempts (Delta's own guidance for such conflicts). Rows of the same scope written by two jobs
 * at once are not kept apart: the last commit wins, as with a rerun.
 */
public final class Tables {
    private static final Logger LOG = LoggerFactory.getLogger(Tables.class);

    /** Commit attempts of one write before a conflict is given up on. */
    static final int ATTEMPTS = 12;

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
        committed(t, () -> replaceOnce(t, df, scope));
    }

    private void replaceOnce(Table t, Dataset<Row> df, Scope scope) {
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
        committed(t, () -> upsertOnce(t, df));
    }

    private void upsertOnce(Table t, Dataset<Row> df) {
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

    /** Runs one write, again while Delta refuses its commit for a concurrent one (see the class comment). */
    private static void committed(Table t, Runnable write) {
        long backoffMs = 50;
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                return;
            } catch (RuntimeException e) {
                ConcurrentModificationException conflict = conflict(e);
                if (conflict == null || attempt == ATTEMPTS) {
                    throw e;
                }
                long sleep = backoffMs + ThreadLocalRandom.current().nextLong(backoffMs);
                LOG.info(
                        "{}: commit refused for a concurrent write ({}); attempt {} of {} in {} ms",
                        t.tableName(),
                        conflict.getClass().getSimpleName(),
                        attempt + 1,
                        ATTEMPTS,
                        sleep);
                sleepMs(sleep);
                backoffMs = Math.min(2_000, backoffMs * 2);
            }
        }
    }

    /** The Delta concurrent-modification conflict behind {@code e} (Delta's all extend this JDK class), or null. */
    static ConcurrentModificationException conflict(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ConcurrentModificationException m) {
                return m;
            }
        }
        return null;
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retrying a table commit", e);
        }
    }

    private static void checkType(Table t, Class<?> type) {
        if (t.rowType() != type) {
            throw new IllegalArgumentException(type.getSimpleName() + " is not a row of " + t.tableName());
        }
    }
}
