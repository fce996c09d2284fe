package io.compactml.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.compactml.common.CompactMLException;
import io.compactml.common.artifact.ArtifactStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server over real HTTP on loopback, serving {@link TinyModels}' hand-worked Gemm from a real artifact
 * directory in ONNX Runtime: protocol answers, every kind of bad request, dynamic batching, hot swap and refusal.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path root;

    private static ArtifactStore store;
    private static ServeMetrics metrics;
    private static ModelSlot slot;
    private static ModelServer server;
    private static String base;

    @BeforeAll
    static void start() {
        store = new ArtifactStore(root.toString(), new Configuration());
        TinyModels.publish(store, "1", 1f);
        metrics = new ServeMetrics();
        ServeSettings settings = new ServeSettings(
                "127.0.0.1",
                0,
                64,
                50.0,
                4096,
                1,
                60_000,
                5_000,
                0.0,
                root.resolve("log").toString(),
                10,
                root.toString());
        slot = new ModelSlot(store, ServedVersion.load(store, "tiny", "1", 1), 1, metrics);
        server = new ModelServer(slot, settings, metrics, InferenceLog.disabled(metrics));
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.drain();
        slot.close();
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String request(String name, String datatype, String shape, String data) {
        return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"" + name + "\",\"datatype\":\"" + datatype + "\",\"shape\":"
                + shape + ",\"data\":" + data + "}]}";
    }

    private static float[] outputs(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        JsonNode data = JSON.readTree(r.body()).at("/outputs/0/data");
        float[] y = new float[data.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = data.get(i).floatValue();
        }
        return y;
    }

    @Test
    @Order(1)
    void answersTheProtocolWithHandWorkedOutputs() throws Exception {
        assertEquals("{\"live\":true}", get("/v2/health/live").body());
        assertEquals(200, get("/v2/health/ready").statusCode());
        JsonNode meta = JSON.readTree(get("/v2/models/tiny").body());
        assertEquals("[\"1\"]", meta.get("versions").toString());
        assertEquals("onnxruntime_onnx", meta.get("platform").asText());
        assertEquals(
                "{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,2]}",
                JSON.writeValueAsString(JSON.readTree(meta.get("inputs").get(0).toString())));
        assertEquals(200, get("/v2/models/tiny/versions/1/ready").statusCode());

        HttpResponse<String> r = post("/v2/models/tiny/infer", request("input", "FP32", "[2,2]", "[[1,2],[0,0]]"));
        assertArrayEquals(new float[] {1.5f, 2f, 3f, 0.5f, 0f, 0f}, outputs(r), 1e-6f);
        JsonNode body = JSON.readTree(r.body());
        assertEquals("tiny", body.get("model_name").asText());
        assertEquals("1", body.get("model_version").asText());
        assertEquals("r1", body.get("id").asText());
        assertEquals("[2,3]", body.at("/outputs/0/shape").toString());
        assertEquals("output", body.at("/outputs/0/name").asText());
        // flat data and the version in the path
        assertArrayEquals(
                new float[] {1.5f, 2f, 3f},
                outputs(post("/v2/models/tiny/versions/1/infer", request("input", "FP32", "[1,2]", "[1,2]"))),
                1e-6f);
    }

    @Test
    @Order(2)
    void refusesBadRequestsWithA4xxAndKeepsServing() throws Exception {
        String[][] cases = {
            {"/v2/models/tiny/infer", request("input", "FP32", "[1,3]", "[1,2,3]"), "400", "shape [1, 3]"},
            {"/v2/models/tiny/infer", request("input", "FP32", "[2,2]", "[1,2,3]"), "400", "has 3 values"},
            {"/v2/models/tiny/infer", request("input", "INT64", "[1,2]", "[1,2]"), "400", "datatype INT64"},
            {"/v2/models/tiny/infer", request("x", "FP32", "[1,2]", "[1,2]"), "400", "inputs [x]"},
            {"/v2/models/tiny/infer", "{\"inputs\":[]}", "400", "no inputs"},
            {"/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[1,NaN]"), "400", "data[1] is NaN"},
            {"/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[1,\"a\"]"), "400", "not a number"},
            {"/v2/models/tiny/infer", "{\"inputs\":[{\"name\":", "400", "not valid JSON"},
            {"/v2/models/tiny/infer", "[1,2]", "400", "not a JSON object"},
            {"/v2/models/other/infer", request("input", "FP32", "[1,2]", "[1,2]"), "404", "no model 'other'"},
            {"/v2/models/tiny/versions/7/infer", request("input", "FP32", "[1,2]", "[1,2]"), "404", "serving '1'"},
            {"/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[1," + "0,".repeat(3000) + "2]"), "413", ""},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post(c[0], c[1]);
            assertEquals(Integer.parseInt(c[2]), r.statusCode(), c[0] + " " + shortened(c[1]) + " -> " + r.body());
            String error = JSON.readTree(r.body()).get("error").asText();
            assertTrue(error.contains(c[3]), shortened(c[1]) + " -> " + error);
        }
        assertEquals(404, get("/v2/nothing").statusCode());
        assertArrayEquals(
                new float[] {1.5f, 2f, 3f},
                outputs(post("/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[1,2]"))),
                1e-6f);
        String scraped = get("/metrics").body();
        assertTrue(scraped.contains("compactml_serve_errors_total{kind=\"wrong_shape\"} 2.0"), scraped);
        assertTrue(scraped.contains("compactml_serve_errors_total{kind=\"not_finite\"} 1.0"), scraped);
        assertTrue(scraped.contains("compactml_serve_errors_total{kind=\"too_large\"} 1.0"), scraped);
    }

    @Test
    @Order(3)
    void speaksTheBinaryTensorExtensionAsTritonClientsDoByDefault() throws Exception {
        String header = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[2,2],"
                + "\"parameters\":{\"binary_data_size\":16}}],"
                + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}";
        byte[] json = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer body =
                java.nio.ByteBuffer.allocate(json.length + 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        body.put(json).putFloat(1f).putFloat(2f).putFloat(0f).putFloat(0f);
        HttpResponse<byte[]> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/v2/models/tiny/infer"))
                        .header("Inference-Header-Content-Length", Integer.toString(json.length))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.array()))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), new String(r.body()));
        int jsonLength = Integer.parseInt(
                r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode meta = JSON.readTree(new String(r.body(), 0, jsonLength, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(24, meta.at("/outputs/0/parameters/binary_data_size").asInt(), "2 rows x 3 outputs x 4 bytes");
        java.nio.FloatBuffer y = java.nio.ByteBuffer.wrap(r.body(), jsonLength, 24)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
        float[] out = new float[6];
        y.get(out);
        assertArrayEquals(new float[] {1.5f, 2f, 3f, 0.5f, 0f, 0f}, out, 1e-6f);

        // 12 bytes of data for a [2, 2] input: 400, and the server goes on
        HttpResponse<String> short_ = HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/v2/models/tiny/infer"))
                        .header("Inference-Header-Content-Length", Integer.toString(json.length))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(
                                java.util.Arrays.copyOf(body.array(), json.length + 12)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, short_.statusCode(), short_.body());
        assertTrue(short_.body().contains("binary_data_size 16 does not fit the 12 bytes"), short_.body());
    }

    @Test
    @Order(4)
    void gathersConcurrentRequestsIntoBatchesAndAnswersEachWithItsOwnRows() throws Exception {
        int clients = 16;
        double callsBefore = count(get("/metrics").body(), "compactml_serve_batch_rows_count");
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<float[]>> answers = new ArrayList<>();
        for (int k = 0; k < clients; k++) {
            int x0 = k;
            answers.add(pool.submit(() -> {
                go.await();
                return outputs(post("/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[" + x0 + ",1]")));
            }));
        }
        go.countDown();
        for (int k = 0; k < clients; k++) {
            // x = [k, 1]: y = [k + 0.5, 1, 2 - k]
            assertArrayEquals(new float[] {k + 0.5f, 1f, 2f - k}, answers.get(k).get(), 1e-5f, "client " + k);
        }
        pool.shutdown();
        double calls = count(get("/metrics").body(), "compactml_serve_batch_rows_count") - callsBefore;
        assertTrue(calls < clients, clients + " requests ran as " + calls + " runtime calls: no batching");
    }

    @Test
    @Order(5)
    void swapsInANewVersionAndRefusesATamperedOne() throws Exception {
        TinyModels.publish(store, "2", 2f);
        slot.checkLatest();
        // scale 2: x = [1, 2] -> [2 + 0.5, 4, 6]
        assertArrayEquals(
                new float[] {2.5f, 4f, 6f},
                outputs(post("/v2/models/tiny/infer", request("input", "FP32", "[1,2]", "[1,2]"))),
                1e-6f);
        assertEquals(
                "[\"2\"]",
                JSON.readTree(get("/v2/models/tiny").body()).get("versions").toString());

        TinyModels.publish(store, "3", 3f);
        Path onnx = root.resolve("tiny/3/model.onnx");
        byte[] bytes = Files.readAllBytes(onnx);
        bytes[bytes.length - 5] ^= 1;
        Files.write(onnx, bytes);
        slot.checkLatest();
        assertEquals("2", slot.peek().version, "a tampered version is refused, the old one keeps serving");
        String scraped = get("/metrics").body();
        assertTrue(scraped.contains("compactml_serve_refused_versions_total 1.0"), scraped);
        assertTrue(scraped.contains("compactml_serve_model_info{model=\"tiny\",version=\"2\"} 1.0"), scraped);
        CompactMLException e = assertThrows(CompactMLException.class, () -> ServedVersion.load(store, "tiny", "3", 1));
        assertTrue(e.getMessage().contains("model.onnx has sha256"), e.getMessage());
    }

    @Test
    @Order(6)
    void aModelWithClassNamesAnswersTheirNamesAsTheLabelOutput() throws Exception {
        TinyModels.publish(store, "4", 1f, List.of("approve", "decline", "review"));
        slot.checkLatest();
        JsonNode meta = JSON.readTree(get("/v2/models/tiny").body());
        assertEquals(
                "{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[-1]}",
                meta.get("outputs").get(1).toString());
        assertEquals(
                "[\"approve\",\"decline\",\"review\"]",
                meta.at("/parameters/class_names").toString());

        // [1, 2] -> [1.5, 2, 3]: class 2; [0, 0] -> [0.5, 0, 0]: class 0
        HttpResponse<String> r = post("/v2/models/tiny/infer", request("input", "FP32", "[2,2]", "[[1,2],[0,0]]"));
        assertArrayEquals(new float[] {1.5f, 2f, 3f, 0.5f, 0f, 0f}, outputs(r), 1e-6f);
        JsonNode label = JSON.readTree(r.body()).at("/outputs/1");
        assertEquals(
                "{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"review\",\"approve\"]}",
                label.toString());

        // only the output asked for
        String onlyLabel = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}],"
                + "\"outputs\":[{\"name\":\"label\"}]}";
        JsonNode only =
                JSON.readTree(post("/v2/models/tiny/infer", onlyLabel).body()).get("outputs");
        assertEquals(1, only.size(), only.toString());
        assertEquals("[\"review\"]", only.at("/0/data").toString());
        HttpResponse<String> unknown = post("/v2/models/tiny/infer", onlyLabel.replace("\"label\"", "\"labels\""));
        assertEquals(400, unknown.statusCode());
        assertTrue(unknown.body().contains("[output, label]"), unknown.body());

        // names that do not fit the outputs are refused, the served version stays
        TinyModels.publish(store, "5", 1f, List.of("approve", "decline"));
        slot.checkLatest();
        assertEquals("4", slot.peek().version);
        CompactMLException e = assertThrows(CompactMLException.class, () -> ServedVersion.load(store, "tiny", "5", 1));
        assertTrue(e.getMessage().contains("names 2 classes for 3 outputs"), e.getMessage());
    }

    private static String shortened(String body) {
        return body.length() > 200 ? body.substring(0, 200) + "..." : body;
    }

    private static double count(String scraped, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(scraped);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
