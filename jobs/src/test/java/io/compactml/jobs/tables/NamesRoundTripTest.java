package io.compactml.jobs.tables;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.train.TrainJob;
import java.lang.reflect.RecordComponent;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Names as people write them (a quote, a backslash, spaces, letters beyond ASCII) go into every table and come
 * back, also when a second run writes to the table that now exists (the replace's predicate names them: case C14,
 * a model named {@code o'brien-mlp} trained twice).
 */
class NamesRoundTripTest {
    /** A quote, a backslash, spaces and letters beyond ASCII, in one name. */
    private static final String NAME = "o'brien \\ m\u00fcller-\u00e9t\u00e9";

    @Test
    void everyTableTakesAndGivesBackEveryName() throws Exception {
        JobContext ctx = SharedSpark.context("names");
        for (Table t : Table.values()) {
            TableRow first = record(t, NAME, 1);
            TableRow second = record(t, NAME, 2);
            Scope scope = scopeOf(t, first);
            ctx.tables().replace(t, List.of(first), scope);
            ctx.tables().replace(t, List.of(second), scope);
            List<? extends TableRow> back = ctx.tables().rows(t, scope, t.rowType());
            assertEquals(1, back.size(), t.tableName() + ": the second write replaced the first");
            assertEquals(text(second), text(back.get(0)), t.tableName());
        }
        for (Table t : List.of(Table.RUNS, Table.ARTIFACTS)) {
            TableRow r = record(t, NAME, 3);
            ctx.tables().upsert(t, List.of(r));
            ctx.tables().upsert(t, List.of(r));
            assertEquals(1, ctx.tables().rows(t, scopeOf(t, r), t.rowType()).size(), t.tableName() + " MERGE");
        }
    }

    @Test
    void aModelNamedWithAQuoteTrainsTwice() {
        // C14: the second run replaces the first run's rows of training_history under a quoted predicate
        for (String run : List.of("q1", "q2")) {
            JobContext ctx = JobContext.of(
                    SharedSpark.session(),
                    SharedSpark.config(SharedSpark.onCsv("train_basic.csv", "f*", "label", "model.name=\"o'brien-mlp\"")
                            .toArray(String[]::new)),
                    run);
            TrainJob.Result r = new TrainJob(ctx).run();
            assertEquals(
                    2,
                    ctx.tables()
                            .rows(
                                    Table.TRAINING_HISTORY,
                                    Scope.run(run).and("model_name", "o'brien-mlp"),
                                    TrainingHistoryRow.class)
                            .size(),
                    run);
            assertEquals(2, r.history().size());
        }
    }

    /** A record of {@code t} whose string columns are {@code name} and whose other columns depend on {@code n}. */
    private static TableRow record(Table t, String name, int n) throws Exception {
        RecordComponent[] cs = t.rowType().getRecordComponents();
        Object[] values = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) {
            types[i] = cs[i].getType();
            boolean key = cs[i].isAnnotationPresent(Key.class);
            values[i] = value(cs[i].getType(), name, key ? 1 : n);
        }
        return t.rowType().getDeclaredConstructor(types).newInstance(values);
    }

    private static Object value(Class<?> type, String name, int n) {
        if (type == String.class) {
            return name;
        }
        if (type == int.class || type == Integer.class) {
            return n;
        }
        if (type == long.class || type == Long.class) {
            return (long) n;
        }
        if (type == float.class || type == Float.class) {
            return n / 4f;
        }
        if (type == double.class || type == Double.class) {
            return n / 8.0;
        }
        if (type == boolean.class || type == Boolean.class) {
            return n % 2 == 0;
        }
        if (type == Timestamp.class) {
            return new Timestamp(1_700_000_000_000L + n);
        }
        if (type == float[].class) {
            return new float[] {n, 0.5f};
        }
        if (type == long[].class) {
            return new long[] {n, 7};
        }
        if (type == int[].class) {
            return new int[] {n, 3};
        }
        if (type == List.class) {
            return List.of(name, "x" + n);
        }
        throw new IllegalArgumentException(type.toString());
    }

    /** The scope of a record's key columns. */
    private static Scope scopeOf(Table t, TableRow r) throws Exception {
        Scope s = null;
        for (RecordComponent c : t.rowType().getRecordComponents()) {
            if (c.isAnnotationPresent(Key.class)) {
                Object v = c.getAccessor().invoke(r);
                s = s == null ? Scope.where(RowCodec.column(c.getName()), v) : s.and(RowCodec.column(c.getName()), v);
            }
        }
        return s;
    }

    /** A record's values as text, arrays by content. */
    private static String text(TableRow r) throws Exception {
        List<String> out = new ArrayList<>();
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            Object v = c.getAccessor().invoke(r);
            out.add(
                    v instanceof float[] f
                            ? Arrays.toString(f)
                            : v instanceof long[] l
                                    ? Arrays.toString(l)
                                    : v instanceof int[] i ? Arrays.toString(i) : String.valueOf(v));
        }
        return String.join("|", out);
    }
}
