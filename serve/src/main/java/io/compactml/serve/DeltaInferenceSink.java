package io.compactml.serve;

import io.delta.kernel.DataWriteContext;
import io.delta.kernel.Operation;
import io.delta.kernel.Table;
import io.delta.kernel.Transaction;
import io.delta.kernel.TransactionBuilder;
import io.delta.kernel.TransactionCommitResult;
import io.delta.kernel.data.ArrayValue;
import io.delta.kernel.data.ColumnVector;
import io.delta.kernel.data.ColumnarBatch;
import io.delta.kernel.data.FilteredColumnarBatch;
import io.delta.kernel.data.Row;
import io.delta.kernel.defaults.engine.DefaultEngine;
import io.delta.kernel.engine.Engine;
import io.delta.kernel.exceptions.CheckpointAlreadyExistsException;
import io.delta.kernel.exceptions.ConcurrentWriteException;
import io.delta.kernel.exceptions.TableAlreadyExistsException;
import io.delta.kernel.expressions.Literal;
import io.delta.kernel.types.ArrayType;
import io.delta.kernel.types.DataType;
import io.delta.kernel.types.FloatType;
import io.delta.kernel.types.IntegerType;
import io.delta.kernel.types.StringType;
import io.delta.kernel.types.StructField;
import io.delta.kernel.types.StructType;
import io.delta.kernel.types.TimestampType;
import io.delta.kernel.utils.CloseableIterable;
import io.delta.kernel.utils.CloseableIterator;
import io.delta.kernel.utils.DataFileStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends inference-log batches to a Delta Lake table with Delta Kernel: the server has no Spark, and Kernel (with
 * its default Hadoop/Parquet engine) is the Delta writer that needs none. The table, created by the first write when
 * it does not exist, has the columns
 * <ul>
 *   <li>{@code model} STRING not null, {@code version} STRING not null,</li>
 *   <li>{@code time} TIMESTAMP not null (the request's time),</li>
 *   <li>{@code features} ARRAY&lt;FLOAT&gt; (elements not null), {@code outputs} ARRAY&lt;FLOAT&gt;,</li>
 *   <li>{@code prediction} INT: the index of the largest output (null when there is none).</li>
 * </ul>
 * Each {@link #write} is one Delta commit, a blind append of one Parquet file; Kernel retries it by itself over
 * concurrent appends, and the table is checkpointed when Kernel says it is due (every 10 commits by default).
 * Another writer creating the table at the same time makes this one's creation fail: the batch is then written
 * again as an append to that table (the Parquet file of the lost attempt is deleted).
 */
final class DeltaInferenceSink implements InferenceLog.Sink {
    private static final Logger LOG = LoggerFactory.getLogger(DeltaInferenceSink.class);
    private static final String ENGINE_INFO = "CompactML-serve";
    private static final Map<String, Literal> UNPARTITIONED = Map.of();

    /** The table's schema, as this class creates it. */
    static final StructType SCHEMA = new StructType()
            .add("model", StringType.STRING, false)
            .add("version", StringType.STRING, false)
            .add("time", TimestampType.TIMESTAMP, false)
            .add("features", new ArrayType(FloatType.FLOAT, false), true)
            .add("outputs", new ArrayType(FloatType.FLOAT, true), true)
            .add("prediction", IntegerType.INTEGER, true);

    private final String tableUri;
    private final String model;
    private final Engine engine;
    /** The table is known to exist: later writes append without trying to create it. */
    private volatile boolean exists;

    DeltaInferenceSink(String tableUri, String model, Configuration hadoop) {
        this.tableUri = Objects.requireNonNull(tableUri, "tableUri");
        this.model = Objects.requireNonNull(model, "model");
        this.engine = DefaultEngine.create(hadoop);
    }

    @Override
    public void write(List<InferenceLog.Entry> entries) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        Table table = Table.forPath(engine, tableUri);
        TransactionCommitResult result = null;
        if (!exists) {
            try {
                result = commit(table, entries, true);
                LOG.info("Inference log: created Delta table {}", tableUri);
            } catch (TableAlreadyExistsException | ConcurrentWriteException e) {
                // there already, or created by another writer meanwhile: append to it
                LOG.debug("Inference log: {} exists, appending ({})", tableUri, e.getMessage());
            }
        }
        if (result == null) {
            result = commit(table, entries, false);
        }
        exists = true;
        if (result.isReadyForCheckpoint()) {
            checkpoint(table, result.getVersion());
        }
    }

    /** Checkpoints the table (every 10th commit by default), so that its log replays fast; rows stay written. */
    private void checkpoint(Table table, long version) {
        try {
            table.checkpoint(engine, version);
        } catch (CheckpointAlreadyExistsException e) {
            LOG.debug("Inference log: {} already has a checkpoint at version {}", tableUri, version);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Inference log: checkpoint of {} at version {} failed: {}", tableUri, version, e.toString());
        }
    }

    /** Writes {@code entries} to one Parquet file and commits it, creating the table if {@code create}. */
    private TransactionCommitResult commit(Table table, List<InferenceLog.Entry> entries, boolean create)
            throws IOException {
        Transaction txn = begin(table, create);
        Row state = txn.getTransactionState(engine);
        FilteredColumnarBatch logical = new FilteredColumnarBatch(batch(checkedSchema(txn), entries), Optional.empty());
        CloseableIterator<FilteredColumnarBatch> physical =
                Transaction.transformLogicalData(engine, state, single(logical), UNPARTITIONED);
        DataWriteContext context = Transaction.getWriteContext(engine, state, UNPARTITIONED);
        List<String> written = new ArrayList<>();
        CloseableIterator<DataFileStatus> files = engine.getParquetHandler()
                .writeParquetFiles(context.getTargetDirectory(), physical, context.getStatisticsColumns())
                .map(file -> {
                    written.add(file.getPath());
                    return file;
                });
        CloseableIterator<Row> actions = Transaction.generateAppendActions(engine, state, files, context);
        try (CloseableIterable<Row> toCommit = CloseableIterable.inMemoryIterable(actions)) {
            return txn.commit(engine, toCommit);
        } catch (ConcurrentWriteException e) {
            delete(written); // not committed, so referenced by no version of the table
            throw e;
        }
    }

    private Transaction begin(Table table, boolean create) {
        TransactionBuilder builder =
                table.createTransactionBuilder(engine, ENGINE_INFO, create ? Operation.CREATE_TABLE : Operation.WRITE);
        if (create) {
            builder = builder.withSchema(engine, SCHEMA);
        }
        return builder.build(engine);
    }

    private void delete(List<String> files) {
        for (String file : files) {
            try {
                engine.getFileSystemClient().delete(file);
            } catch (IOException | RuntimeException e) {
                LOG.debug("Inference log: could not delete uncommitted {}: {}", file, e.toString());
            }
        }
    }

    /** The table's schema, when its columns are this class's (names and types, in order) and it is unpartitioned. */
    private StructType checkedSchema(Transaction txn) {
        StructType schema = txn.getSchema(engine);
        boolean unpartitioned = txn.getPartitionColumns(engine).isEmpty();
        boolean same = unpartitioned && schema.length() == SCHEMA.length();
        for (int i = 0; same && i < SCHEMA.length(); i++) {
            StructField ours = SCHEMA.at(i);
            StructField theirs = schema.at(i);
            same = ours.getName().equalsIgnoreCase(theirs.getName())
                    && ours.getDataType().equivalent(theirs.getDataType());
        }
        if (!same) {
            throw new IllegalStateException("Delta table " + tableUri + " is not an inference log: its schema is "
                    + schema + (unpartitioned ? "" : ", partitioned"));
        }
        return schema;
    }

    /** The rows of {@code entries} as a batch of {@code schema} (the table's own field types and names). */
    private ColumnarBatch batch(StructType schema, List<InferenceLog.Entry> entries) {
        int n = entries.size();
        String[] models = new String[n];
        String[] versions = new String[n];
        long[] micros = new long[n];
        float[][] features = new float[n][];
        float[][] outputs = new float[n][];
        Integer[] predictions = new Integer[n];
        for (int r = 0; r < n; r++) {
            InferenceLog.Entry e = entries.get(r);
            models[r] = model;
            versions[r] = Objects.requireNonNull(e.version(), "version");
            micros[r] = TimeUnit.MILLISECONDS.toMicros(e.timeMillis());
            features[r] = e.features();
            outputs[r] = e.outputs();
            predictions[r] = argmax(e.outputs());
        }
        ColumnVector[] columns = {
            new Strings(schema.at(0).getDataType(), models),
            new Strings(schema.at(1).getDataType(), versions),
            new Longs(schema.at(2).getDataType(), micros),
            new FloatArrays(schema.at(3).getDataType(), features),
            new FloatArrays(schema.at(4).getDataType(), outputs),
            new Ints(schema.at(5).getDataType(), predictions)
        };
        return new Batch(schema, columns, n);
    }

    /** The index of the largest (non-NaN) output; null when there is none. */
    static Integer argmax(float[] outputs) {
        Integer best = null;
        for (int i = 0; outputs != null && i < outputs.length; i++) {
            if (!Float.isNaN(outputs[i]) && (best == null || outputs[i] > outputs[best])) {
                best = i;
            }
        }
        return best;
    }

    private static <T> CloseableIterator<T> single(T item) {
        return new CloseableIterator<>() {
            private boolean done;

            @Override
            public boolean hasNext() {
                return !done;
            }

            @Override
            public T next() {
                if (done) {
                    throw new NoSuchElementException();
                }
                done = true;
                return item;
            }

            @Override
            public void close() {}
        };
    }

    /** A batch of column vectors. */
    private static final class Batch implements ColumnarBatch {
        private final StructType schema;
        private final ColumnVector[] columns;
        private final int size;

        Batch(StructType schema, ColumnVector[] columns, int size) {
            this.schema = schema;
            this.columns = columns;
            this.size = size;
        }

        @Override
        public StructType getSchema() {
            return schema;
        }

        @Override
        public ColumnVector getColumnVector(int ordinal) {
            return columns[ordinal];
        }

        @Override
        public int getSize() {
            return size;
        }
    }

    /** A column of {@code size} rows of {@code type}, none null unless a subclass says so. */
    private abstract static class Vector implements ColumnVector {
        private final DataType type;
        private final int size;

        Vector(DataType type, int size) {
            this.type = type;
            this.size = size;
        }

        @Override
        public DataType getDataType() {
            return type;
        }

        @Override
        public int getSize() {
            return size;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return false;
        }

        @Override
        public void close() {}
    }

    private static final class Strings extends Vector {
        private final String[] values;

        Strings(DataType type, String[] values) {
            super(type, values.length);
            this.values = values;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return values[rowId] == null;
        }

        @Override
        public String getString(int rowId) {
            return values[rowId];
        }
    }

    /** Longs; TIMESTAMP values are microseconds since the epoch. */
    private static final class Longs extends Vector {
        private final long[] values;

        Longs(DataType type, long[] values) {
            super(type, values.length);
            this.values = values;
        }

        @Override
        public long getLong(int rowId) {
            return values[rowId];
        }
    }

    private static final class Ints extends Vector {
        private final Integer[] values;

        Ints(DataType type, Integer[] values) {
            super(type, values.length);
            this.values = values;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return values[rowId] == null;
        }

        @Override
        public int getInt(int rowId) {
            return values[rowId];
        }
    }

    /** The elements of one array value. */
    private static final class Floats extends Vector {
        private final float[] values;

        Floats(DataType type, float[] values) {
            super(type, values.length);
            this.values = values;
        }

        @Override
        public float getFloat(int rowId) {
            return values[rowId];
        }
    }

    private static final class FloatArrays extends Vector {
        private final float[][] values;

        FloatArrays(DataType type, float[][] values) {
            super(type, values.length);
            this.values = values;
        }

        @Override
        public boolean isNullAt(int rowId) {
            return values[rowId] == null;
        }

        @Override
        public ArrayValue getArray(int rowId) {
            float[] row = values[rowId];
            ColumnVector elements = new Floats(((ArrayType) getDataType()).getElementType(), row);
            return new ArrayValue() {
                @Override
                public int getSize() {
                    return row.length;
                }

                @Override
                public ColumnVector getElements() {
                    return elements;
                }
            };
        }
    }
}
