package io.compactml.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The JSON of the Open Inference Protocol's infer call (KServe v2, Triton's HTTP API), read and written with
 * Jackson's streaming parser so that a request's floats are never boxed.
 *
 * <p>Request: {@code {"id"?, "parameters"?, "inputs": [{"name", "shape": [n, features], "datatype": "FP32",
 * "data": [...]}], "outputs"?: [{"name"}]}}, data row-major, flat or nested. Response: {@code {"model_name",
 * "model_version", "id"?, "outputs": [{"name", "datatype": "FP32", "shape": [n, outputs], "data": [...]}]}}.
 * The binary tensor data extension (Triton's, which its clients use by default) is spoken too: with an {@code
 * Inference-Header-Content-Length: n} header, the first n bytes are the JSON and the rest the inputs' raw bytes
 * (little-endian, in the order of the inputs whose {@code parameters.binary_data_size} says how many); an output
 * requested with {@code parameters.binary_data = true} (or a request with {@code parameters.binary_data_output =
 * true}) is answered the same way.
 */
final class InferenceProtocol {
    private InferenceProtocol() {}

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** The header that says how long the JSON part of a binary-extension body is. */
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /**
     * A parsed infer request: {@code rows} rows of the model's features, flattened; whether the output is wanted
     * as binary data; the outputs it names (empty: all the model has).
     */
    record Request(String id, int rows, float[] x, boolean binaryOutput, java.util.Set<String> outputs) {
        Request(String id, int rows, float[] x, boolean binaryOutput) {
            this(id, rows, x, binaryOutput, java.util.Set.of());
        }

        boolean wants(String output) {
            return outputs.isEmpty() || outputs.contains(output);
        }
    }

    /** A body being read: its bytes, where its JSON ends, and how far the binary part has been consumed. */
    private static final class Body {
        final byte[] bytes;
        final int jsonLength;
        int cursor;
        boolean binaryOutput;
        final java.util.Set<String> outputs = new java.util.LinkedHashSet<>();

        Body(byte[] bytes, int jsonLength) {
            this.bytes = bytes;
            this.jsonLength = jsonLength;
            this.cursor = jsonLength;
        }

        /** The next {@code size} bytes of the binary part as little-endian floats. */
        float[] floats(String input, long size) {
            if (cursor == bytes.length && jsonLength == bytes.length) {
                throw ServeException.badRequest(
                        "bad_json",
                        "input '" + input + "' has binary_data_size but the request has no " + HEADER_LENGTH
                                + " header");
            }
            if (size % 4 != 0 || cursor + size > bytes.length) {
                throw ServeException.badRequest(
                        "wrong_shape",
                        "input '" + input + "' binary_data_size " + size + " does not fit the "
                                + (bytes.length - cursor) + " bytes left of the body (FP32: 4 bytes a value)");
            }
            float[] out = new float[(int) (size / 4)];
            java.nio.ByteBuffer.wrap(bytes, cursor, (int) size)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer()
                    .get(out);
            cursor += (int) size;
            return out;
        }
    }

    /**
     * Parses and checks an infer request against the served version's signature.
     *
     * @throws ServeException (400) naming the problem: unreadable JSON, no input of the model's name, another
     *     datatype or shape than the model's, data of another length, a value that is not a finite number, an
     *     output the model does not have
     */
    static Request parse(byte[] body, ServedVersion v) {
        return parse(body, -1, v);
    }

    /**
     * As {@link #parse(byte[], ServedVersion)}, for a body whose first {@code jsonLength} bytes are JSON and the rest
     * binary tensor data ({@code jsonLength} -1: all JSON).
     */
    static Request parse(byte[] bytes, int jsonLength, ServedVersion v) {
        if (jsonLength > bytes.length) {
            throw ServeException.badRequest(
                    "bad_json", HEADER_LENGTH + " is " + jsonLength + ", the body has " + bytes.length + " bytes");
        }
        Body body = new Body(bytes, jsonLength < 0 ? bytes.length : jsonLength);
        try (JsonParser p = JSON.createParser(bytes, 0, body.jsonLength)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, "the body is not a JSON object");
            String id = null;
            Request input = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "id" -> id = p.getValueAsString();
                    case "inputs" -> input = inputs(p, v, body);
                    case "outputs" -> outputs(p, v, body);
                    case "parameters" -> body.binaryOutput |= flag(p, "binary_data_output");
                    default -> p.skipChildren();
                }
            }
            if (input == null) {
                throw missing(v, List.of());
            }
            if (body.cursor != bytes.length) {
                throw ServeException.badRequest(
                        "wrong_shape",
                        (bytes.length - body.cursor) + " bytes of binary data follow the inputs' binary_data_size");
            }
            return new Request(id, input.rows(), input.x(), body.binaryOutput, java.util.Set.copyOf(body.outputs));
        } catch (JsonProcessingException e) {
            throw ServeException.badRequest("bad_json", "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Request inputs(JsonParser p, ServedVersion v, Body body) throws IOException {
        expect(p.currentToken() == JsonToken.START_ARRAY, "\"inputs\" is not an array");
        List<String> names = new ArrayList<>();
        Request found = null;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            Tensor t = tensor(p);
            if (t.binarySize >= 0) {
                t.data = body.floats(t.name, t.binarySize);
                t.length = t.data.length;
            }
            names.add(t.name);
            if (v.input.name().equals(t.name)) {
                found = t.check(v);
            }
        }
        expect(p.currentToken() == JsonToken.END_ARRAY, "\"inputs\" holds something other than tensor objects");
        if (found == null || names.size() != 1) {
            throw missing(v, names);
        }
        return found;
    }

    private static void outputs(JsonParser p, ServedVersion v, Body body) throws IOException {
        expect(p.currentToken() == JsonToken.START_ARRAY, "\"outputs\" is not an array");
        while (p.nextToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("parameters")) {
                    body.binaryOutput |= flag(p, "binary_data");
                    continue;
                }
                if (field.equals("name")) {
                    String name = p.getValueAsString();
                    if (!v.outputNames().contains(name)) {
                        throw ServeException.badRequest(
                                "unknown_output",
                                "the model has no output '" + name + "'; its outputs are " + v.outputNames());
                    }
                    body.outputs.add(name);
                }
                p.skipChildren();
            }
        }
        expect(p.currentToken() == JsonToken.END_ARRAY, "\"outputs\" holds something other than objects");
    }

    /** One input tensor as sent. */
    private static final class Tensor {
        String name = "";
        String datatype = "";
        long[] shape;
        float[] data = new float[0];
        int length;
        long binarySize = -1;

        Request check(ServedVersion v) {
            String what = "input '" + name + "'";
            if (!datatype.equals(v.input.datatype())) {
                throw ServeException.badRequest(
                        "wrong_datatype",
                        what + " has datatype " + datatype + ", the model takes " + v.input.datatype());
            }
            if (shape == null || shape.length != 2 || shape[1] != v.features || shape[0] < 1) {
                throw ServeException.badRequest(
                        "wrong_shape",
                        what + " has shape " + Arrays.toString(shape) + ", the model takes [n, " + v.features
                                + "], n >= 1");
            }
            if (shape[0] * shape[1] != length) {
                throw ServeException.badRequest(
                        "wrong_shape",
                        what + " has " + length + " values, its shape " + Arrays.toString(shape) + " needs "
                                + shape[0] * shape[1]);
            }
            for (int i = 0; i < length; i++) {
                if (!Float.isFinite(data[i])) {
                    throw ServeException.badRequest(
                            "not_finite",
                            what + " data[" + i + "] is " + data[i]
                                    + ": the model was calibrated on finite values; send finite numbers");
                }
            }
            return new Request(null, (int) shape[0], length == data.length ? data : Arrays.copyOf(data, length), false);
        }

        void add(float f) {
            if (length == data.length) {
                data = Arrays.copyOf(data, Math.max(1024, data.length * 2));
            }
            data[length++] = f;
        }
    }

    private static Tensor tensor(JsonParser p) throws IOException {
        Tensor t = new Tensor();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken token = p.nextToken();
            switch (field) {
                case "name" -> t.name = p.getValueAsString("");
                case "datatype" -> t.datatype = p.getValueAsString("");
                case "shape" -> t.shape = shape(p);
                case "data" -> data(p, t, token);
                case "parameters" -> t.binarySize = binarySize(p);
                default -> p.skipChildren();
            }
        }
        return t;
    }

    private static long[] shape(JsonParser p) throws IOException {
        expect(p.currentToken() == JsonToken.START_ARRAY, "\"shape\" is not an array");
        List<Long> dims = new ArrayList<>();
        while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
            dims.add(p.getLongValue());
        }
        expect(p.currentToken() == JsonToken.END_ARRAY, "\"shape\" holds something other than integers");
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static void data(JsonParser p, Tensor t, JsonToken token) throws IOException {
        expect(token == JsonToken.START_ARRAY, "input '" + t.name + "' data is not an array");
        int depth = 1;
        while (depth > 0) {
            JsonToken n = p.nextToken();
            if (n == JsonToken.VALUE_NUMBER_FLOAT || n == JsonToken.VALUE_NUMBER_INT) {
                t.add(p.getFloatValue());
            } else if (n == JsonToken.START_ARRAY) {
                depth++;
            } else if (n == JsonToken.END_ARRAY) {
                depth--;
            } else {
                throw ServeException.badRequest(
                        "bad_json",
                        "input '" + t.name + "' data[" + t.length + "] is " + p.getText() + ", not a number");
            }
        }
    }

    /** A tensor's {@code parameters.binary_data_size}, -1 without one. */
    private static long binarySize(JsonParser p) throws IOException {
        long size = -1;
        if (p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean isSize = p.currentName().equals("binary_data_size");
                p.nextToken();
                if (isSize) {
                    size = p.getValueAsLong(-1);
                }
                p.skipChildren();
            }
        } else {
            p.skipChildren();
        }
        return size;
    }

    /** Whether the parameters object at {@code p} sets {@code name} to true. */
    private static boolean flag(JsonParser p, String name) throws IOException {
        boolean set = false;
        if (p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean isFlag = p.currentName().equals(name);
                p.nextToken();
                set |= isFlag && p.currentToken() == JsonToken.VALUE_TRUE;
                p.skipChildren();
            }
        } else {
            p.skipChildren();
        }
        return set;
    }

    private static ServeException missing(ServedVersion v, List<String> names) {
        return ServeException.badRequest(
                "missing_input",
                "the model takes one input '" + v.input.name() + "' " + v.input.shape() + " " + v.input.datatype()
                        + "; the request has " + (names.isEmpty() ? "no inputs" : "inputs " + names));
    }

    private static void expect(boolean ok, String problem) {
        if (!ok) {
            throw ServeException.badRequest("bad_json", problem);
        }
    }

    /** An infer response: its bytes, and the length of its JSON part when outputs follow as binary data (else -1). */
    record Response(byte[] bytes, int jsonLength) {}

    /**
     * The infer response for {@code y} ([rows][outputs]): JSON, or JSON and binary data as the request asked; for a
     * model with class names also the {@code label} output (BYTES [rows], the name of each row's most probable class,
     * always as JSON data), each output only if the request names it or names none.
     */
    static Response response(ServedVersion v, Request r, float[][] y) {
        boolean scores = r.wants(v.output.name());
        if (!r.binaryOutput() || !scores) {
            return new Response(response(v, r, y, false), -1);
        }
        byte[] json = response(v, r, y, true);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(json.length + y.length * v.outputs * 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.put(json);
        for (float[] row : y) {
            for (float f : row) {
                out.putFloat(f);
            }
        }
        return new Response(out.array(), json.length);
    }

    /** The JSON infer response for {@code y} to {@code r}; with {@code binary}, the scores' size instead of them. */
    static byte[] response(ServedVersion v, Request r, float[][] y, boolean binary) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + (binary ? 0 : y.length * v.outputs * 12));
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("model_name", v.model);
            g.writeStringField("model_version", v.version);
            if (r.id() != null) {
                g.writeStringField("id", r.id());
            }
            g.writeArrayFieldStart("outputs");
            if (r.wants(v.output.name())) {
                scores(g, v, y, binary);
            }
            if (v.classNames != null && r.wants(ServedVersion.LABEL)) {
                labels(g, v, y);
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void scores(JsonGenerator g, ServedVersion v, float[][] y, boolean binary) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", v.output.name());
        g.writeStringField("datatype", v.output.datatype());
        g.writeArrayFieldStart("shape");
        g.writeNumber(y.length);
        g.writeNumber(v.outputs);
        g.writeEndArray();
        if (binary) {
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("binary_data_size", y.length * v.outputs * 4);
            g.writeEndObject();
        } else {
            g.writeArrayFieldStart("data");
            for (float[] row : y) {
                for (float f : row) {
                    g.writeNumber(f);
                }
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    /** Each row's most probable class by name (the first of equal scores, as argmax). */
    private static void labels(JsonGenerator g, ServedVersion v, float[][] y) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", ServedVersion.LABEL);
        g.writeStringField("datatype", "BYTES");
        g.writeArrayFieldStart("shape");
        g.writeNumber(y.length);
        g.writeEndArray();
        g.writeArrayFieldStart("data");
        for (float[] row : y) {
            int best = 0;
            for (int j = 1; j < row.length; j++) {
                if (row[j] > row[best]) {
                    best = j;
                }
            }
            g.writeString(v.classNames.get(best));
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
