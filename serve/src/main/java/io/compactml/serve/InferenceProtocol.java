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
 * The binary tensor data extension is not spoken: a request using it gets 400 (send {@code binary_data=False}).
 */
final class InferenceProtocol {
    private InferenceProtocol() {}

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** A parsed infer request: {@code rows} rows of the model's features, flattened. */
    record Request(String id, int rows, float[] x) {}

    /**
     * Parses and checks an infer request against the served version's signature.
     *
     * @throws ServeException (400) naming the problem: unreadable JSON, no input of the model's name, another
     *     datatype or shape than the model's, data of another length, a value that is not a finite number, an
     *     output the model does not have
     */
    static Request parse(byte[] body, ServedVersion v) {
        try (JsonParser p = JSON.createParser(body)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, "the body is not a JSON object");
            String id = null;
            Request input = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "id" -> id = p.getValueAsString();
                    case "inputs" -> input = inputs(p, v);
                    case "outputs" -> outputs(p, v);
                    default -> p.skipChildren();
                }
            }
            if (input == null) {
                throw missing(v, List.of());
            }
            return new Request(id, input.rows(), input.x());
        } catch (JsonProcessingException e) {
            throw ServeException.badRequest("bad_json", "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Request inputs(JsonParser p, ServedVersion v) throws IOException {
        expect(p.currentToken() == JsonToken.START_ARRAY, "\"inputs\" is not an array");
        List<String> names = new ArrayList<>();
        Request found = null;
        while (p.nextToken() == JsonToken.START_OBJECT) {
            Tensor t = tensor(p);
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

    private static void outputs(JsonParser p, ServedVersion v) throws IOException {
        expect(p.currentToken() == JsonToken.START_ARRAY, "\"outputs\" is not an array");
        while (p.nextToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("name") && !v.output.name().equals(p.getValueAsString())) {
                    throw ServeException.badRequest(
                            "unknown_output",
                            "the model has no output '" + p.getValueAsString() + "'; its output is '" + v.output.name()
                                    + "'");
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
        boolean binary;

        Request check(ServedVersion v) {
            String what = "input '" + name + "'";
            if (binary) {
                throw ServeException.badRequest(
                        "wrong_datatype",
                        what + " uses binary tensor data, which this server does not take: send JSON");
            }
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
            return new Request(null, (int) shape[0], length == data.length ? data : Arrays.copyOf(data, length));
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
                case "parameters" -> t.binary = parameters(p);
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

    private static boolean parameters(JsonParser p) throws IOException {
        boolean binary = false;
        if (p.currentToken() == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                binary |= p.currentName().equals("binary_data_size");
                p.nextToken();
                p.skipChildren();
            }
        } else {
            p.skipChildren();
        }
        return binary;
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

    /** The infer response for rows {@code [0, rows)} of {@code y} ([rows][outputs]). */
    static byte[] response(ServedVersion v, String id, float[][] y) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + y.length * v.outputs * 12);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("model_name", v.model);
            g.writeStringField("model_version", v.version);
            if (id != null) {
                g.writeStringField("id", id);
            }
            g.writeArrayFieldStart("outputs");
            g.writeStartObject();
            g.writeStringField("name", v.output.name());
            g.writeStringField("datatype", v.output.datatype());
            g.writeArrayFieldStart("shape");
            g.writeNumber(y.length);
            g.writeNumber(v.outputs);
            g.writeEndArray();
            g.writeArrayFieldStart("data");
            for (float[] row : y) {
                for (float f : row) {
                    g.writeNumber(f);
                }
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
