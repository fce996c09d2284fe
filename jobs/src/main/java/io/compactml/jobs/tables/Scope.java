package io.compactml.jobs.tables;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * The rows of a table that share some key values, e.g. every row of run {@code r1} about model {@code m}: what
 * an idempotent {@link Tables#replace} replaces, and what {@link Tables#read(Table, Scope)} returns. Built from
 * typed values; the SQL predicate Delta's {@code replaceWhere} takes is built here only, with every literal
 * quoted ({@link #literal}).
 */
public final class Scope {
    private final Map<String, Object> values;

    private Scope(Map<String, Object> values) {
        this.values = values;
    }

    /** The rows of run {@code runId}. */
    public static Scope run(String runId) {
        return new Scope(new LinkedHashMap<>()).and("run_id", runId);
    }

    /** The rows whose {@code column} is {@code value}. */
    public static Scope where(String column, Object value) {
        return new Scope(new LinkedHashMap<>()).and(column, value);
    }

    /** This scope narrowed to rows whose {@code column} is {@code value} (a String or a number). */
    public Scope and(String column, Object value) {
        if (!(value instanceof String || value instanceof Integer || value instanceof Long)) {
            throw new IllegalArgumentException(column + " = " + value + ": a scope compares strings or integers");
        }
        Map<String, Object> more = new LinkedHashMap<>(values);
        more.put(column, value);
        return new Scope(more);
    }

    /** The columns this scope fixes. */
    public List<String> columns() {
        return new ArrayList<>(values.keySet());
    }

    /** The scope as a Spark column expression. */
    public Column condition() {
        Column c = functions.lit(true);
        for (Map.Entry<String, Object> e : values.entrySet()) {
            c = c.and(functions.col(quoted(e.getKey())).equalTo(e.getValue()));
        }
        return c;
    }

    /** The scope as a Spark SQL predicate: {@code run_id = 'r1' AND model_name = 'o\'brien'}. */
    public String predicate() {
        List<String> parts = new ArrayList<>();
        values.forEach((k, v) -> parts.add(quoted(k) + " = " + (v instanceof String s ? literal(s) : v)));
        return String.join(" AND ", parts);
    }

    /**
     * A Spark SQL string literal: single-quoted, with {@code \} and {@code '} escaped by a backslash (Spark SQL reads
     * {@code ''} as two adjacent literals, concatenated, not as an escaped quote).
     */
    public static String literal(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** A column name quoted for Spark SQL, so that names with dots or spaces are read as one name. */
    public static String quoted(String column) {
        return "`" + column.replace("`", "``") + "`";
    }

    @Override
    public String toString() {
        return predicate();
    }
}
