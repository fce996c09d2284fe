package io.compactml.common.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactStoreTest {

    @TempDir
    Path root;

    private final Configuration hadoop = new Configuration();

    private static Manifest manifest(List<Manifest.FileEntry> files) {
        return new Manifest(
                "m",
                "v1",
                "baseline",
                "dl4j-multilayer-zip",
                "2026-01-01T00:00:00Z",
                "r1",
                "abc",
                "0.1.0",
                Map.of("train.epochs", 3),
                Map.of("eval", "toy"),
                Map.of("accuracy", 0.9),
                files,
                null,
                null,
                null);
    }

    private ArtifactStore.Published publish(ArtifactStore store, String content) {
        return store.publish(
                "m", "v1", Map.of("model.zip", content.getBytes(StandardCharsets.UTF_8)), ArtifactStoreTest::manifest);
    }

    @Test
    void publishWritesFilesThenManifestThenLatest() throws Exception {
        ArtifactStore store = new ArtifactStore(root.toString(), hadoop);
        ArtifactStore.Published p = publish(store, "abc");
        assertFalse(p.alreadyPresent());
        Path dir = root.resolve("m/v1");
        assertEquals("abc", Files.readString(dir.resolve("model.zip")));
        Manifest m = Manifest.fromJson(Files.readAllBytes(dir.resolve("manifest.json")));
        // sha256("abc"), the FIPS 180-2 test vector
        assertEquals(
                List.of(new Manifest.FileEntry(
                        "model.zip", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")),
                m.files());
        assertEquals(0.9, m.metrics().get("accuracy"));
        assertEquals("v1", Files.readString(root.resolve("m/LATEST")).trim());
        String json = Files.readString(dir.resolve("manifest.json"));
        assertTrue(json.contains("\"source_model_sha256\""), "snake_case keys: " + json);
        assertEquals(m, store.verify("m", "v1"));
    }

    @Test
    void samePublishIsANoOpAndDifferentContentIsRefused() {
        ArtifactStore store = new ArtifactStore(root.toString(), hadoop);
        publish(store, "abc");
        assertTrue(publish(store, "abc").alreadyPresent());
        CompactMLException e = assertThrows(CompactMLException.class, () -> publish(store, "abd"));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("immutable"), e.getMessage());
    }

    @Test
    void leftoverOfAnInterruptedPublishIsReplaced() throws Exception {
        Path dir = Files.createDirectories(root.resolve("m/v1"));
        Files.writeString(dir.resolve("model.zip"), "half");
        Files.writeString(dir.resolve("stray.bin"), "x");
        publish(new ArtifactStore(root.toString(), hadoop), "abc");
        assertEquals("abc", Files.readString(dir.resolve("model.zip")));
        assertFalse(Files.exists(dir.resolve("stray.bin")));
    }

    @Test
    void verifyRefusesATamperedFile() throws Exception {
        ArtifactStore store = new ArtifactStore(root.toString(), hadoop);
        publish(store, "abc");
        Files.writeString(root.resolve("m/v1/model.zip"), "abd");
        CompactMLException e = assertThrows(CompactMLException.class, () -> store.verify("m", "v1"));
        assertTrue(e.getMessage().contains("model.zip") && e.getMessage().contains("tampered"), e.getMessage());
    }
}
