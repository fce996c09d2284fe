package io.compactml.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompactConfigTest {

    @TempDir
    Path dir;

    private static CompactMLException usageError(Runnable r) {
        CompactMLException e = assertThrows(CompactMLException.class, r::run);
        assertEquals(2, e.exitCode(), "config errors are usage errors (exit 2): " + e.getMessage());
        return e;
    }

    @Test
    void defaultsAreTheEmbeddedLocalSetup() {
        CompactConfig c = CompactConfig.defaults();
        assertEquals("local[*]", c.getString("spark.master"));
        assertEquals("./warehouse", c.getString("tables.root"));
        assertEquals("./artifacts", c.getString("artifacts.root"));
        assertEquals(List.of(512, 256), c.getIntList("network.hidden"));
        assertEquals("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", c.getString("data.eval.uri"));
    }

    @Test
    void fileThenSetOverridesInOrder() throws Exception {
        File f = dir.resolve("a.conf").toFile();
        Files.writeString(f.toPath(), "train { epochs = 3, batch-size = 64 }\nnetwork.hidden = [100]\n");
        CompactConfig c = CompactConfig.load(f, List.of("train.epochs=5", "network.hidden=[32, 16]"));
        assertEquals(5, c.getInt("train.epochs"), "--set wins over the file");
        assertEquals(64, c.getInt("train.batch-size"), "the file wins over the default");
        assertEquals(List.of(32, 16), c.getIntList("network.hidden"));
    }

    @Test
    void unknownKeyIsRejectedWithASuggestion() {
        CompactMLException e = usageError(() -> CompactConfig.load(null, List.of("train.epoch=3")));
        assertTrue(e.getMessage().contains("'train.epoch'"), e.getMessage());
        assertTrue(e.getMessage().contains("train.epochs"), "suggests the closest key: " + e.getMessage());
    }

    @Test
    void unknownKeyInAFileIsRejected() throws Exception {
        File f = dir.resolve("b.conf").toFile();
        Files.writeString(f.toPath(), "data.train.urll = \"x\"\n");
        CompactMLException e = usageError(() -> CompactConfig.load(f, List.of()));
        assertTrue(
                e.getMessage().contains("data.train.urll") && e.getMessage().contains("data.train.uri"),
                e.getMessage());
    }

    @Test
    void badValuesNameKeyValueAndWhatIsAllowed() {
        String enumMsg = usageError(() -> CompactConfig.load(null, List.of("network.type=rnn")))
                .getMessage();
        assertEquals("Config key 'network.type' has value 'rnn'; allowed: one of mlp, cnn.", enumMsg);
        String rangeMsg = usageError(() -> CompactConfig.load(null, List.of("train.epochs=0")))
                .getMessage();
        assertEquals("Config key 'train.epochs' has value '0'; allowed: a number in [1, 10000].", rangeMsg);
        String typeMsg = usageError(() -> CompactConfig.load(null, List.of("train.epochs=many")))
                .getMessage();
        assertTrue(typeMsg.contains("'many'") && typeMsg.contains("a whole number"), typeMsg);
        String fracMsg = usageError(() -> CompactConfig.load(null, List.of("train.epochs=2.5")))
                .getMessage();
        assertTrue(fracMsg.contains("a whole number"), fracMsg);
        String listMsg = usageError(() -> CompactConfig.load(null, List.of("network.hidden=[64, 0]")))
                .getMessage();
        assertTrue(listMsg.contains("network.hidden"), listMsg);
    }

    @Test
    void namesThatBecomeDirectoriesAreOnePathSegment() {
        // a model name of "../evil" trained into models.root/../evil: outside every root
        for (String bad : List.of("../evil", "a/b", "..", ".", "a\\\\b", "tab\\there")) {
            String msg = usageError(() -> CompactConfig.load(null, List.of("model.name=\"" + bad + "\"")))
                    .getMessage();
            assertTrue(msg.startsWith("Config key 'model.name' has value '"), msg);
            assertTrue(msg.contains("it names a directory"), msg);
        }
        usageError(() -> CompactConfig.load(null, List.of("publish.version=\"v1/../../x\"")));
        usageError(() -> CompactConfig.load(null, List.of("quantize.calibration-run=\"../other\"")));
        // quotes, spaces and dots inside are names (C14: o'brien-mlp)
        assertEquals(
                "o'brien mlp.v2",
                CompactConfig.load(null, List.of("model.name=\"o'brien mlp.v2\""))
                        .getString("model.name"));
        assertEquals(
                "", CompactConfig.load(null, List.of("publish.version=\"\"")).getString("publish.version"));
        usageError(() -> CompactConfig.load(null, List.of("model.name=\"\"")));
    }

    @Test
    void missingConfigFileIsAUsageError() {
        String msg = usageError(() -> CompactConfig.load(new File(dir.toFile(), "nope.conf"), List.of()))
                .getMessage();
        assertTrue(msg.contains("nope.conf") && msg.contains("no such file"), msg);
    }

    @Test
    void secretsAreRefusedOnTheCommandLineAndMaskedInLogs() throws Exception {
        String msg = usageError(
                        () -> CompactConfig.load(null, List.of("spark.conf.\"spark.hadoop.fs.s3a.secret.key\"=abc")))
                .getMessage();
        assertTrue(msg.contains("secret") && msg.contains("environment"), msg);

        File f = dir.resolve("s3.conf").toFile();
        Files.writeString(
                f.toPath(),
                "spark.conf { \"spark.hadoop.fs.s3a.secret.key\" = \"hunter2\","
                        + " \"spark.hadoop.fs.s3a.endpoint\" = \"http://127.0.0.1:9000\" }\n");
        CompactConfig c = CompactConfig.load(f, List.of());
        Map<String, String> spark = c.getMap("spark.conf");
        assertEquals("hunter2", spark.get("spark.hadoop.fs.s3a.secret.key"), "the job still gets the value");
        assertEquals("http://127.0.0.1:9000", spark.get("spark.hadoop.fs.s3a.endpoint"));
        assertEquals("****", c.describe().get("spark.conf.spark.hadoop.fs.s3a.secret.key"));
        assertTrue(!c.render().contains("hunter2"), "the secret never reaches the log");
    }

    @Test
    void hashFollowsTheEffectiveValues() {
        String a = CompactConfig.load(null, List.of("train.epochs=3")).hash();
        assertEquals(a, CompactConfig.load(null, List.of("train.epochs=3")).hash());
        assertNotEquals(a, CompactConfig.load(null, List.of("train.epochs=4")).hash());
    }

    @Test
    void everyKeyIsDocumentedAndKebabCase() {
        for (ConfigKey k : ConfigKeys.all()) {
            assertTrue(k.name().matches("[a-z0-9.-]+"), k.name());
            assertTrue(k.doc().length() > 10, "documented: " + k.name());
        }
    }
}
