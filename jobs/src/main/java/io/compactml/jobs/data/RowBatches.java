package io.compactml.jobs.data;

import io.compactml.common.data.ExampleBatcher;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The one way rows become DL4J minibatches: rows of {@link SparkData#SCHEMA} (row id, features, label; more
 * columns may follow) go through an {@link ExampleBatcher}, which checks every row, and come out as minibatches
 * built as they are consumed (a partition is never held in memory whole), each with what its rows carry along
 * (their row ids and labels, the teacher outputs joined to them, ...).
 *
 * <p>The rows are Spark's own binary rows ({@link InternalRow}, as the query computes them), not external
 * {@link org.apache.spark.sql.Row}s: turning a row of 784 floats into a {@code Row} boxes every value into a Scala
 * sequence (a fifth of a 60k-image pass, measured with JFR), which {@link #floats} reads back without. A row is
 * read when it arrives and not kept: Spark reuses the object for the next row.
 *
 * @param <E> what each row carries into its batch
 */
public final class RowBatches<E> implements Iterator<RowBatches.Batch<E>> {

    /**
     * What a row carries into its minibatch, taken from the row (e.g. its teacher outputs): values copied out of it
     * ({@link #floats}, {@link #label}), never the row or its arrays, which Spark reuses.
     */
    @FunctionalInterface
    public interface Carry<E> extends Serializable {
        E of(InternalRow row);
    }

    /**
     * One minibatch: the row id of its first row, the examples (features scaled, labels one-hot or a target
     * column), and what each of its rows carried, in order.
     */
    public record Batch<E>(long firstRow, DataSet data, List<E> carried) {}

    private final Iterator<InternalRow> rows;
    private final ExampleBatcher batcher;
    private final boolean labeled;
    private final Carry<E> carry;
    private final List<E> carried = new ArrayList<>();
    private long firstRow = -1;
    private Batch<E> next;

    /**
     * @param labeled false for calibration: labels are not read, and NaN or infinite features pass through to be
     *                counted
     * @param carry   what each row carries, or null for nothing
     */
    public RowBatches(Iterator<InternalRow> rows, ExampleBatcher batcher, boolean labeled, Carry<E> carry) {
        this.rows = rows;
        this.batcher = batcher;
        this.labeled = labeled;
        this.carry = carry;
        this.next = advance();
    }

    private Batch<E> advance() {
        while (rows.hasNext()) {
            InternalRow r = rows.next();
            long id = r.getLong(0);
            if (firstRow < 0) {
                firstRow = id;
            }
            if (carry != null) {
                carried.add(carry.of(r));
            }
            DataSet ds = labeled ? batcher.add(id, features(r), label(r)) : batcher.addUnlabeled(features(r));
            if (ds != null) {
                return batch(ds);
            }
        }
        DataSet last = batcher.flush();
        return last == null ? null : batch(last);
    }

    private Batch<E> batch(DataSet ds) {
        Batch<E> b = new Batch<>(firstRow, ds, new ArrayList<>(carried));
        carried.clear();
        firstRow = -1;
        return b;
    }

    @Override
    public boolean hasNext() {
        return next != null;
    }

    @Override
    public Batch<E> next() {
        if (next == null) {
            throw new NoSuchElementException();
        }
        Batch<E> current = next;
        next = advance();
        return current;
    }

    /** The label of a row of {@link SparkData#SCHEMA}; null reads as NaN (refused by the batcher's checks). */
    public static double label(InternalRow r) {
        return r.isNullAt(2) ? Double.NaN : r.getDouble(2);
    }

    /** The features of a row of {@link SparkData#SCHEMA}; a null vector reads as one NaN (caught by the checks). */
    private static float[] features(InternalRow r) {
        return r.isNullAt(1) ? new float[] {Float.NaN} : floats(r, 1);
    }

    /**
     * A copy of the array&lt;float&gt; column {@code column} of {@code r}, unboxed; a null element reads as NaN
     * (caught by the batcher's checks).
     */
    public static float[] floats(InternalRow r, int column) {
        ArrayData a = r.getArray(column);
        float[] f = new float[a.numElements()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.isNullAt(i) ? Float.NaN : a.getFloat(i);
        }
        return f;
    }
}
