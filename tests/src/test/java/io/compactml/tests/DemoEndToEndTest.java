package io.compactml.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compactml demo} on a slice of Fashion-MNIST, in its own JVM, as a person would run it: tables under
 * ./warehouse, the artifact under ./artifacts; then the same run id again, which must leave the tables as one
 * run did.
 */
class DemoEndToEndTest {
    @TempDir
    Path work;

    private static final String[] SLICE = {"--set", "data.train.limit=4000", "--set", "data.eval.limit=1000",
        "--set", "train.epochs=2", "--set", "network.hidden=[128]", "--set", "evaluate.latency-runs=20",
        "--set", "spark.master=local[2]", "--set", "distill.epochs=2", "--set", "distill.settings=[\"4:0.7\"]",
        "--set", "distill.student.hidden=[32]", "--set", "distill.learning-rate=0.005"};

    private CliProcess.Outcome demo() throws Exception {
        String[] args = new String[SLICE.length + 3];
        args[0] = "demo";
        args[1] = "--run-id";
        args[2] = "e2e";
        System.arraycopy(SLICE, 0, args, 3, SLICE.length);
        return CliProcess.run(work, args);
    }

    /** Row counts of evaluations, training_history, runs, artifacts, in one `sql` call. */
    private String counts() throws Exception {
        CliProcess.Outcome o = CliProcess.run(work, "sql", "--format", "csv", "SELECT"
                + " (SELECT count(*) FROM evaluations) AS evaluations,"
                + " (SELECT count(*) FROM training_history) AS history,"
                + " (SELECT count(*) FROM runs) AS runs,"
                + " (SELECT count(*) FROM artifacts) AS artifacts,"
                + " (SELECT count(*) FROM quant_params) AS quant_params,"
                + " (SELECT count(*) FROM param_importance) AS importance,"
                + " (SELECT count(*) FROM sparsity) AS sparsity,"
                + " (SELECT count(*) FROM teacher_outputs) AS teacher_outputs,"
                + " (SELECT count(*) FROM distill_candidates) AS candidates");
        assertEquals(0, o.exitCode(), o.toString());
        return o.stdout().strip().split("\n")[1].trim();
    }

    @Test
    void demoTrainsEvaluatesPublishesAndReruns() throws Exception {
        CliProcess.Outcome first = demo();
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.stdout().contains("epoch 2/2"), first.stdout());
        Matcher acc = Pattern.compile("accuracy\\s+([0-9.]+) on fashion-mnist-test \\(1000 examples\\)")
                .matcher(first.stdout());
        assertTrue(acc.find(), first.stdout());
        assertTrue(Double.parseDouble(acc.group(1)) > 0.65, "accuracy " + acc.group(1));

        Matcher int8 = Pattern.compile("int8\\s+accuracy ([0-9.]+) \\(weights only ([0-9.]+)\\), [0-9,]+ bytes: ([0-9.]+)x smaller")
                .matcher(first.stdout());
        assertTrue(int8.find(), first.stdout());
        assertTrue(Math.abs(Double.parseDouble(int8.group(1)) - Double.parseDouble(acc.group(1))) < 0.02,
                "int8 within 2 points of float: " + int8.group(0));
        assertTrue(Double.parseDouble(int8.group(3)) > 3.5, int8.group(0));
        assertTrue(Files.exists(work.resolve("artifacts/fmnist-mlp-int8/e2e/model.int8")));

        Matcher pruned = Pattern.compile("pruned\\s+magnitude; accuracy ([0-9.]+) \\(one-shot ([0-9.]+)\\), weight"
                + " sparsity ([0-9.]+), [0-9,]+ bytes: ([0-9.]+)x smaller").matcher(first.stdout());
        assertTrue(pruned.find(), first.stdout());
        assertTrue(Double.parseDouble(pruned.group(1)) > Double.parseDouble(acc.group(1)) - 0.05,
                "90 % sparse after fine-tuning within 5 points on this slice: " + pruned.group(0));
        assertEquals("0.900", pruned.group(3));
        assertTrue(Double.parseDouble(pruned.group(4)) > 6, pruned.group(0));
        assertTrue(Files.exists(work.resolve("artifacts/fmnist-mlp-pruned/e2e/model.sparse")));

        Matcher student = Pattern.compile("distilled\\s+student (\\S+): accuracy ([0-9.]+) \\(teacher ([0-9.]+), no-KD"
                + " ([0-9.]+)\\), [0-9,]+ parameters = ([0-9.]+) % of the teacher's").matcher(first.stdout());
        assertTrue(student.find(), first.stdout());
        assertTrue(Double.parseDouble(student.group(2)) > 0.65, student.group(0));
        assertTrue(Double.parseDouble(student.group(5)) < 30, student.group(0));
        assertTrue(Files.exists(work.resolve("artifacts/fmnist-mlp-student/e2e/model.zip")));

        Path manifest = work.resolve("artifacts/fmnist-mlp/e2e/manifest.json");
        assertTrue(Files.exists(manifest), "artifact published under ./artifacts");
        assertTrue(Files.exists(work.resolve("artifacts/fmnist-mlp/e2e/model.zip")));
        assertEquals("e2e", Files.readString(work.resolve("artifacts/fmnist-mlp/LATEST")).trim());

        // float model: examples, accuracy, top-5, loss, 10 x (precision, recall), macro F1 = 25; size, params,
        // nonzero = 3; 5 latency figures: 33 metrics. Int8 and int8 weights only: 25 + sqnr, size, params = 28
        // each. Pruned: 33 + one-shot accuracy, dense size, weight sparsity = 36. 2 epochs of training and 2 of
        // fine-tuning; one run; three artifacts; quant_params: 3 tensors x 4 methods + 128 + 10 channels;
        // importance: 3 criteria x 2 weight tensors; sparsity: 2 layers and the total. The student: 33 + its
        // temperature, alpha, the teacher's accuracy and size, the no-KD accuracy = 38; 2 candidates (T4-a0.7 and
        // no-KD) x 2 epochs; 4,000 teacher outputs
        String once = counts();
        assertEquals("163,8,1,4,150,6,3,4000,2", once);

        CliProcess.Outcome again = demo();
        // same run id and seed on local[2]: training is deterministic, so the model is bit-identical and the
        // publish of the immutable version is a no-op
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.stdout().contains("(already published)"), again.stdout());
        assertEquals(once, counts(), "a rerun of the run id leaves the tables as one run did");
    }
}
