package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compactml demo} on a slice of Fashion-MNIST, in its own JVM, as a person would run it: tables under
 * ./warehouse, artifacts under ./artifacts; a plan of four candidates (int8, taylor pruning, pruning stored as
 * int8, a distilled student quantized to int8), the chosen one published. Then the same run id again, which
 * reuses every candidate and leaves the tables as one run did; then every query of the results notebook against
 * those tables.
 */
class DemoEndToEndTest {
    @TempDir
    Path work;

    private static final String[] SLICE = {
        "--set",
        "data.train.limit=4000",
        "--set",
        "data.eval.limit=1000",
        "--set",
        "train.epochs=2",
        "--set",
        "network.hidden=[128]",
        "--set",
        "evaluate.latency-runs=20",
        "--set",
        "spark.master=local[2]",
        "--set",
        "distill.epochs=2",
        "--set",
        "distill.settings=[\"4:0.7\"]",
        "--set",
        "distill.student.hidden=[32]",
        "--set",
        "distill.learning-rate=0.005",
        "--set",
        "pipeline.candidates=[\"int8:entropy\", \"prune:taylor:0.9\", \"prune:magnitude:0.9>int8:percentile\","
                + " \"distill>int8:percentile\"]",
        "--set",
        "pipeline.max-accuracy-drop=3"
    };

    private CliProcess.Outcome demo() throws Exception {
        String[] args = new String[SLICE.length + 3];
        args[0] = "demo";
        args[1] = "--run-id";
        args[2] = "e2e";
        System.arraycopy(SLICE, 0, args, 3, SLICE.length);
        return CliProcess.run(work, args);
    }

    private List<Map<String, String>> sql(String query) throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "sql", "--format", "csv", query);
        assertEquals(0, o.exitCode(), o.toString());
        return csv(o.stdout().strip().split("\n"));
    }

    private static List<Map<String, String>> csv(String[] lines) {
        String[] header = lines[0].split(",");
        List<Map<String, String>> rows = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int j = 0; j < header.length; j++) {
                row.put(header[j], f[j]);
            }
            rows.add(row);
        }
        return rows;
    }

    /** Row counts of every table the demo writes, in one `sql` call. */
    private Map<String, String> counts() throws Exception {
        StringBuilder q = new StringBuilder("SELECT 1 AS one");
        for (String t : List.of(
                "runs",
                "training_history",
                "evaluations",
                "calibration_stats",
                "quant_params",
                "layer_sensitivity",
                "param_importance",
                "sparsity",
                "teacher_outputs",
                "distill_candidates",
                "candidates",
                "artifacts")) {
            q.append(", (SELECT count(*) FROM ").append(t).append(") AS ").append(t);
        }
        return sql(q.toString()).get(0);
    }

    @Test
    void demoRunsAPlanPublishesTheChosenCandidateAndReruns() throws Exception {
        CliProcess.Outcome first = demo();
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.stdout().contains("epoch 2/2"), first.stdout());
        assertTrue(
                first.stdout().contains("pipeline run e2e: 4 candidates; constraints: accuracy drop <= 3.00 points"),
                first.stdout());

        List<Map<String, String>> cands =
                sql("SELECT candidate, model_name, candidate_run_id, accuracy, source_accuracy,"
                        + " accuracy_drop_points, size_bytes, source_size_bytes, meets_constraints, chosen, reused"
                        + " FROM candidates WHERE run_id = 'e2e' ORDER BY candidate");
        assertEquals(
                List.of(
                        "distill>int8:percentile",
                        "int8:entropy",
                        "prune:magnitude:0.9>int8:percentile",
                        "prune:taylor:0.9"),
                cands.stream().map(r -> r.get("candidate")).toList());
        double source = Double.parseDouble(cands.get(0).get("source_accuracy"));
        assertTrue(source > 0.65, "source accuracy " + source);
        Map<String, Double> timesSmaller = new LinkedHashMap<>();
        for (Map<String, String> r : cands) {
            double drop = 100 * (source - Double.parseDouble(r.get("accuracy")));
            assertEquals(drop, Double.parseDouble(r.get("accuracy_drop_points")), 1e-6, r.toString());
            assertEquals(drop <= 3.0 + 1e-9, Boolean.parseBoolean(r.get("meets_constraints")), r.toString());
            timesSmaller.put(
                    r.get("candidate"),
                    Double.parseDouble(r.get("source_size_bytes")) / Double.parseDouble(r.get("size_bytes")));
        }
        assertTrue(timesSmaller.get("int8:entropy") > 3.5, timesSmaller.toString());
        assertTrue(timesSmaller.get("prune:taylor:0.9") > 6, timesSmaller.toString());
        assertTrue(timesSmaller.get("prune:magnitude:0.9>int8:percentile") > 12, timesSmaller.toString());
        assertTrue(timesSmaller.get("distill>int8:percentile") > 12, timesSmaller.toString());
        assertTrue(Double.parseDouble(cands.get(1).get("accuracy")) > source - 0.02, "int8 within 2 points");

        // the decision rule, checked from the table: the one chosen is the smallest that meets the constraints
        List<Map<String, String>> chosen =
                cands.stream().filter(r -> r.get("chosen").equals("true")).toList();
        assertEquals(1, chosen.size(), cands.toString());
        long smallest = cands.stream()
                .filter(r -> r.get("meets_constraints").equals("true"))
                .mapToLong(r -> Long.parseLong(r.get("size_bytes")))
                .min()
                .orElseThrow();
        assertEquals(smallest, Long.parseLong(chosen.get(0).get("size_bytes")));
        String chosenName = chosen.get(0).get("model_name");
        String version = chosen.get(0).get("candidate_run_id");
        assertTrue(version.startsWith("e2e."), version);
        assertTrue(
                Files.exists(work.resolve("artifacts")
                        .resolve(chosenName)
                        .resolve(version)
                        .resolve("manifest.json")),
                "the chosen " + chosenName + " is published under its candidate's run id");
        assertTrue(Files.exists(work.resolve("artifacts/fmnist-mlp/e2e/manifest.json")), "and the baseline");
        assertEquals(
                "e2e",
                Files.readString(work.resolve("artifacts/fmnist-mlp/LATEST")).trim());

        Map<String, String> once = counts();
        assertEquals("1", once.get("runs"));
        assertEquals("4", once.get("candidates"));
        assertEquals("2", once.get("artifacts"));
        assertEquals("4000", once.get("teacher_outputs"));

        CliProcess.Outcome again = demo();
        assertEquals(0, again.exitCode(), again.toString());
        Matcher reused = Pattern.compile("\\(reused\\)").matcher(again.stdout());
        assertEquals(4, reused.results().count(), again.stdout());
        assertTrue(
                again.stdout().contains("reusing the calibration statistics")
                        || again.stdout().contains("reusing candidate"),
                again.stdout());
        assertTrue(again.stdout().contains("(already published)"), again.stdout());
        assertEquals(once, counts(), "a rerun of the run id leaves the tables as one run did");

        notebookQueriesRunOnTheseTables();
        reportOfTheRun();
    }

    /** `report` draws every section from these tables: the PNGs decode at their size, the page links them. */
    private void reportOfTheRun() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "report", "--run-id", "e2e", "--set", "spark.master=local[2]");
        assertEquals(0, o.exitCode(), o.toString());
        Path dir = work.resolve("reports/e2e");
        String html = Files.readString(dir.resolve("index.html"));
        List<String> pngs;
        try (var files = Files.list(dir)) {
            pngs = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".png"))
                    .sorted()
                    .toList();
        }
        for (String expected : List.of("candidates.png", "training.png", "sensitivity.png")) {
            assertTrue(pngs.contains(expected), pngs.toString());
        }
        assertTrue(pngs.stream().anyMatch(n -> n.startsWith("activations-")), pngs.toString());
        assertTrue(pngs.stream().anyMatch(n -> n.startsWith("importance-")), pngs.toString());
        for (String png : pngs) {
            java.awt.image.BufferedImage image =
                    javax.imageio.ImageIO.read(dir.resolve(png).toFile());
            assertEquals(900, image.getWidth(), png);
            assertEquals(420, image.getHeight(), png);
            assertTrue(html.contains("src=\"" + png + "\""), png + " linked from index.html");
        }
        assertEquals(
                1,
                Pattern.compile("<tr class=\"chosen\">").matcher(html).results().count(),
                html);
        assertTrue(html.contains("prune:magnitude:0.9&gt;int8:percentile"), html);
    }

    /** Every query of notebooks/queries.sql returns rows here, and the notebook uses exactly those queries. */
    private void notebookQueriesRunOnTheseTables() throws Exception {
        Path queries = CliProcess.ROOT.resolve("notebooks/queries.sql");
        CliProcess.Outcome o = CliProcess.run(work, "sql", "--format", "csv", "--file", queries.toString());
        assertEquals(0, o.exitCode(), o.toString());
        Map<String, Integer> rows = CliProcess.rowsPerQuery(o.stdout());
        rows.forEach((name, n) -> assertTrue(n > 0, "notebook query " + name + " returned no rows"));

        JsonNode nb = new ObjectMapper()
                .readTree(CliProcess.ROOT
                        .resolve("notebooks/compactml_results.ipynb")
                        .toFile());
        TreeSet<String> used = new TreeSet<>();
        for (JsonNode cell : nb.get("cells")) {
            StringBuilder src = new StringBuilder();
            cell.get("source").forEach(l -> src.append(l.asText()));
            Matcher m = Pattern.compile("q\\(\"([a-z_]+)\"\\)").matcher(src);
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        assertEquals(new TreeSet<>(rows.keySet()), used, "the notebook's queries are the file's");
    }
}
