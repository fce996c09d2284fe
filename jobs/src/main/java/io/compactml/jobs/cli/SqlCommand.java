package io.compactml.jobs.cli;

import io.compactml.common.Errors;
import io.compactml.jobs.runtime.SparkSessions;
import io.compactml.jobs.tables.Table;
import io.compactml.jobs.tables.Tables;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sql}: Spark SQL over the CompactML tables, each registered as a view under its own name. */
@Command(name = "sql", description = "Run Spark SQL over the CompactML tables (runs, evaluations, ...).")
public final class SqlCommand implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "QUERY",
            description = "e.g. \"SELECT metric, value FROM evaluations\"")
    String query;

    @Option(
            names = "--file",
            paramLabel = "FILE",
            description = "Run every named query of FILE in order"
                    + " (blocks starting with a '-- name: <name>' line, as in notebooks/queries.sql).")
    java.nio.file.Path file;

    @Option(names = "--format", defaultValue = "table", description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--max-rows", defaultValue = "1000", description = "Rows shown in table format.")
    int maxRows;

    @Override
    public Integer call() {
        if (!List.of("table", "csv", "json").contains(format)) {
            throw Errors.badConfigValue("--format", format, "table, csv or json");
        }
        if ((query == null) == (file == null)) {
            throw Errors.badArguments("Give either a QUERY or --file FILE.");
        }
        Map<String, String> queries = file == null ? Map.of("query", query) : namedQueries(file);
        var config = options.load();
        SparkSession spark = SparkSessions.create(config, "sql");
        try {
            Tables tables = new Tables(spark, config.getString("tables.root"));
            List<String> present = new ArrayList<>();
            for (Table t : Table.values()) {
                if (tables.exists(t)) {
                    tables.read(t).createOrReplaceTempView(t.tableName());
                    present.add(t.tableName());
                }
            }
            for (Map.Entry<String, String> q : queries.entrySet()) {
                Dataset<Row> result;
                try {
                    result = spark.sql(q.getValue());
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    // Scala hides the checked AnalysisException (unknown table or column, syntax) from javac
                    String why = e instanceof AnalysisException a ? a.getSimpleMessage() : e.getMessage();
                    throw Errors.queryFailed(
                            file == null ? "Query" : "Query '" + q.getKey() + "' of " + file,
                            why,
                            config.getString("tables.root"),
                            present);
                }
                if (file != null) {
                    System.out.println("-- name: " + q.getKey());
                }
                print(result);
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    private void print(Dataset<Row> result) {
        switch (format) {
            case "json" -> result.toJSON().collectAsList().forEach(System.out::println);
            case "csv" -> {
                System.out.println(String.join(",", result.columns()));
                for (Row r : result.collectAsList()) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < r.size(); i++) {
                        sb.append(i == 0 ? "" : ",").append(csv(r.get(i)));
                    }
                    System.out.println(sb);
                }
            }
            default -> result.show(maxRows, false);
        }
        System.out.flush();
    }

    /**
     * The named queries of a file, in order: each starts at a {@code -- name: <name>} line and runs to the next;
     * other comment lines and a final semicolon are dropped.
     */
    static Map<String, String> namedQueries(java.nio.file.Path path) {
        String text;
        try {
            text = java.nio.file.Files.readString(path);
        } catch (java.io.IOException e) {
            throw Errors.badQueryFile("Cannot read " + path + ": " + e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        String name = null;
        StringBuilder sql = new StringBuilder();
        for (String line : (text + "\n-- name: \n").split("\n")) {
            if (line.startsWith("-- name:")) {
                if (name != null && out.put(name, sql.toString().strip().replaceAll(";$", "")) != null) {
                    throw Errors.badQueryFile(
                            path + " names two queries '" + name + "'; give each query its own name.");
                }
                name = line.substring("-- name:".length()).strip();
                sql.setLength(0);
            } else if (!line.strip().startsWith("--")) {
                sql.append(line).append('\n');
            }
        }
        if (out.isEmpty()) {
            throw Errors.badQueryFile(path + " has no '-- name: <name>' query.");
        }
        return out;
    }

    private static String csv(Object v) {
        if (v == null) {
            return "";
        }
        String s = v.toString();
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
