package io.compactml.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@link Errors} is the one place user-facing errors are built: no main source constructs them elsewhere. */
class ErrorsTest {
    @Test
    void onlyErrorsConstructsCompactMLExceptions() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> offenders = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.filter(
                            f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/java/"))
                    .toList()) {
                files++;
                if (p.getFileName().toString().equals("Errors.java")
                        || p.getFileName().toString().equals("CompactMLException.java")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(p);
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains("new CompactMLException(")) {
                        offenders.add(root.relativize(p) + ":" + (i + 1));
                    }
                }
            }
        }
        assertTrue(files > 50, "the scan saw the sources of every module: " + files + " files under " + root);
        assertEquals(List.of(), offenders, "build user-facing errors in Errors");
    }
}
