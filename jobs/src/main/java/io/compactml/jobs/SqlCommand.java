package io.compactml.jobs;

import io.compactml.common.CompactMLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.AnalysisException;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sql}: Spark SQL over the CompactML tables, each registered as a view under its own name. */
@Command(name = "sql", description = "Run Spark SQL over the CompactML tables (runs, evaluations, ...).")
final class SqlCommand implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Parameters(index = "0", paramLabel = "QUERY", description = "e.g. \"SELECT metric, value FROM evaluations\"")
    String query;

    @Option(names = "--format", defaultValue = "table", description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--max-rows", defaultValue = "1000", description = "Rows shown in table format.")
    int maxRows;

    @Override
    public Integer call() {
        if (!List.of("table", "csv", "json").contains(format)) {
            throw io.compactml.common.Errors.badConfigValue("--format", format, "table, csv or json");
        }
        var config = options.load();
        SparkSession spark = SparkSessions.create(config, "sql");
        try {
            Tables tables = new Tables(spark, config.getString("tables.root"));
            List<String> present = new ArrayList<>();
            for (Tables.Table t : Tables.Table.values()) {
                if (tables.exists(t)) {
                    tables.read(t).createOrReplaceTempView(t.tableName());
                    present.add(t.tableName());
                }
            }
            Dataset<Row> result;
            try {
                result = spark.sql(query);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                // Scala hides the checked AnalysisException (unknown table or column, syntax) from javac
                String why = e instanceof AnalysisException a ? a.getSimpleMessage() : e.getMessage();
                throw new CompactMLException(CompactMLException.Kind.USAGE, "Query failed: " + why
                        + " Tables under " + config.getString("tables.root") + ": " + present);
            }
            print(result);
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

    private static String csv(Object v) {
        if (v == null) {
            return "";
        }
        String s = v.toString();
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
