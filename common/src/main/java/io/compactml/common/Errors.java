package io.compactml.common;

import static io.compactml.common.CompactMLException.Kind.RUNTIME;
import static io.compactml.common.CompactMLException.Kind.USAGE;

import io.compactml.common.data.DatasetSpec;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Every user-facing error, built in one place (as Delta kernel's {@code DeltaErrors}): what is wrong, the value,
 * what is allowed, what to do. {@link CompactMLException}s are constructed here and nowhere else (a test checks
 * the sources). Usage errors exit 2 (fix the command, do not retry); runtime failures exit 1.
 */
public final class Errors {
    private Errors() {}

    /* ---------------------------------------- configuration and command line ---------------------------------------- */

    public static CompactMLException unknownConfigKey(String key, Collection<String> closest) {
        String hint = closest.isEmpty() ? "" : " Did you mean: " + String.join(", ", closest) + "?";
        return new CompactMLException(
                USAGE, "Unknown config key '" + key + "'." + hint + " Run `compactml config` to list every key.");
    }

    public static CompactMLException badConfigValue(String key, Object value, String allowed) {
        return new CompactMLException(
                USAGE, "Config key '" + key + "' has value '" + value + "'; allowed: " + allowed + ".");
    }

    public static CompactMLException keySetTwice(String key, String oldName) {
        return new CompactMLException(
                USAGE,
                "Config key '" + key + "' is set twice: as '" + key + "' and under its" + " older name '" + oldName
                        + "'. Keep '" + key + "' only.");
    }

    public static CompactMLException unreadableConfig(String source, String detail) {
        return new CompactMLException(USAGE, "Cannot read config " + source + ": " + detail);
    }

    public static CompactMLException secretOnCommandLine(String key) {
        return new CompactMLException(
                USAGE,
                "Config key '" + key + "' holds a secret and cannot be set on the"
                        + " command line; set it in the environment (e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or"
                        + " a Hadoop credential provider.");
    }

    public static CompactMLException badArguments(String what) {
        return new CompactMLException(USAGE, what);
    }

    /* ---------------------------------------- data sets ---------------------------------------- */

    public static CompactMLException datasetNotFound(String key, String uri) {
        String hint = uri.contains("fashion-mnist")
                ? " Install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian), or point '" + key
                        + "' at your data."
                : " Check '" + key + "'.";
        return new CompactMLException(USAGE, "Dataset not found: " + uri + " (from '" + key + "')." + hint);
    }

    public static CompactMLException emptyDataset(DatasetSpec spec) {
        return new CompactMLException(
                USAGE,
                "Data set " + spec.name() + " (" + spec.uri() + ") is empty. Point '" + spec.key()
                        + "' at data with examples.");
    }

    public static CompactMLException corruptIdx(String uri, String detail) {
        return new CompactMLException(
                RUNTIME, "Corrupt IDX file " + uri + ": " + detail + ". Re-download or reinstall the data set.");
    }

    public static CompactMLException badDataset(String dataset, String detail) {
        return new CompactMLException(USAGE, "Dataset " + dataset + ": " + detail);
    }

    /** A column that a data set's config names is not in the table; {@code what} is "label" or "features". */
    public static CompactMLException noSuchColumn(DatasetSpec spec, String what, String name, List<String> columns) {
        String example = what.equals("features") ? " to a column or a glob such as 'px*'" : "";
        String problem =
                name.contains("*") ? "no column matches '" + name + "'" : "no " + what + " column '" + name + "'";
        return badDataset(
                spec.name(),
                problem + " (set '" + spec.key() + "." + what + "'" + example + "); columns are " + columns);
    }

    public static CompactMLException labelNotNumeric(DatasetSpec spec, String value) {
        return badDataset(
                spec.name(),
                "label column '" + spec.label() + "' holds text such as '" + value + "', and '" + spec.key()
                        + ".label-mapping' is index (labels are class indices 0..k-1, or regression targets). For"
                        + " class names set label-mapping = auto on every split (data.train's sorted names become the"
                        + " model's classes), or point '" + spec.key() + ".label' at a numeric column.");
    }

    /** A label of {@code spec} that is none of the model's class names ({@code label-mapping = auto}). */
    public static CompactMLException unknownLabel(DatasetSpec spec, String value, String classes) {
        return badDataset(
                spec.name(),
                "label '" + value + "' in column '" + spec.label() + "' is not one of the model's classes (" + classes
                        + "), which are the labels of the data it was trained on. Remove or relabel those rows, or"
                        + " train the model on data that has this class.");
    }

    public static CompactMLException unlabeled(DatasetSpec spec, String needs) {
        return new CompactMLException(
                USAGE,
                needs + ", and " + spec.key() + " (" + spec.name() + ") has no labels."
                        + " Set '" + spec.labelKey() + "', or "
                        + (needs.startsWith("importance")
                                ? "use importance.criteria without taylor and fisher (magnitude and entropy read no"
                                        + " labels)."
                                : "use labeled data."));
    }

    public static CompactMLException labelOutOfRange(String dataset, long row, double label, int classes) {
        return new CompactMLException(
                RUNTIME,
                "Dataset " + dataset + ", row " + row + ": label " + label
                        + " is not a class index in [0, " + (classes - 1) + "]. Fix the data or set 'network.outputs'"
                        + " to the number of classes.");
    }

    public static CompactMLException featureLengthMismatch(String dataset, String column, int expected, int actual) {
        return new CompactMLException(
                USAGE,
                "Model expects " + expected + " inputs, dataset " + dataset + " column '" + column + "' has " + actual
                        + ". Use a dataset and a model of the same shape.");
    }

    public static CompactMLException notFinite(String dataset, long row, String what) {
        return new CompactMLException(
                RUNTIME,
                "Dataset " + dataset + ", row " + row + ": " + what
                        + " is NaN or infinite. Clean the data before training or evaluating.");
    }

    public static CompactMLException tooManyNonFinite(String tensor, long bad, long all, double limit, String dataset) {
        return new CompactMLException(
                RUNTIME,
                String.format(
                        Locale.ROOT,
                        "Tensor %s: %d of %d values (%.4f %%) are"
                                + " NaN or infinite, above calibrate.max-nonfinite-fraction = %s. Clean %s or raise the limit.",
                        tensor,
                        bad,
                        all,
                        100.0 * bad / all,
                        limit,
                        dataset));
    }

    /* ---------------------------------------- models and their files ---------------------------------------- */

    public static CompactMLException modelNotFound(String uri, String how) {
        return new CompactMLException(USAGE, "Model not found: " + uri + ". " + how);
    }

    public static CompactMLException corruptModel(String uri, String detail) {
        return new CompactMLException(
                RUNTIME,
                "Model " + uri + " is not a readable DL4J model zip (" + detail
                        + "). Retrain it or point 'model.path' at a model saved by CompactML or DL4J ModelSerializer.");
    }

    /** A CompactML model file ({@code what}: "int8 model", "sparse model") that does not parse. */
    public static CompactMLException unreadableModelFile(
            String what, String source, String detail, String remedy, Throwable cause) {
        return new CompactMLException(
                RUNTIME,
                Character.toUpperCase(what.charAt(0)) + what.substring(1) + " " + source + " is not readable (" + detail
                        + "). " + remedy,
                cause);
    }

    public static CompactMLException unsupportedLayer(int layer, String type, String supported, String key) {
        return new CompactMLException(
                USAGE,
                "Layer " + layer + " (" + type + ") cannot be quantized: supported are " + supported + ". Add " + layer
                        + " to '" + key + "' to keep it in float.");
    }

    public static CompactMLException unsupportedExport(int layer, String what) {
        return new CompactMLException(
                USAGE,
                "Layer " + layer + " (" + what + ") has no ONNX export: supported are"
                        + " dense and output layers, 2D convolutions, max pooling, the reshape and flattening between them, and"
                        + " ReLU, tanh, sigmoid, softmax and identity activations.");
    }

    public static CompactMLException unsupportedOnnx(String op, String node, String supported) {
        return new CompactMLException(
                USAGE,
                "ONNX node '" + node + "' is a " + op + ", which CompactML cannot turn"
                        + " into a DL4J layer; supported are " + supported
                        + ". Export the model without it, or compress a"
                        + " model of these layers.");
    }

    public static CompactMLException unreadableOnnx(String source, String detail) {
        return new CompactMLException(
                USAGE,
                "Model " + source + " is not an ONNX model CompactML can read (" + detail
                        + "). Point 'model.path' at an .onnx file written by torch.onnx.export, tf2onnx or CompactML.");
    }

    /* ---------------------------------------- runs that a job needs first ---------------------------------------- */

    /**
     * A job needs what another job writes under a run id, and it is not there: {@code what} names it ("'entropy'
     * calibration of model 1a2b3c4d5e6f"), {@code table} where it was looked for, {@code job} the command that
     * writes it ({@code "calibrate --run-id r1"}, with what else it must include), {@code key} the setting that
     * points elsewhere.
     */
    public static CompactMLException missingUpstream(String what, String run, String table, String job, String key) {
        return new CompactMLException(
                USAGE,
                "No " + what + " under run id '" + run + "' in " + table + ". Run" + " `compactml " + job
                        + "` first, or set " + key + ".");
    }

    /** Stored teacher outputs that do not belong to the teacher and data the job was given. */
    public static CompactMLException teacherMismatch(String run, String detail) {
        return new CompactMLException(
                USAGE,
                "The teacher outputs of run '" + run + "' " + detail + " Run"
                        + " `compactml teacher-outputs --run-id " + run + "` with this teacher and data first, or set"
                        + " distill.teacher-run.");
    }

    public static CompactMLException teacherOutputsWidth(String teacher, int outputs, int expected, boolean classes) {
        return new CompactMLException(
                USAGE,
                "Teacher " + teacher + " has " + outputs + " outputs, but network.outputs"
                        + " (the " + (classes ? "classes" : "targets") + " of the data and of the student) is "
                        + expected
                        + ". Use the teacher trained on these labels, or set network.outputs.");
    }

    public static CompactMLException notEvaluated(String model, String sha256) {
        return new CompactMLException(
                USAGE,
                "Model " + model + " (" + sha256.substring(0, 12) + ") has no rows in"
                        + " 'evaluations': run `compactml evaluate` (or `quantize` for int8, `prune` for pruned, `distill` for"
                        + " a student) with the same --run-id first.");
    }

    public static CompactMLException nothingPublished(String model, String root) {
        return new CompactMLException(
                USAGE,
                "Nothing of " + model + " is published under " + root + " (no LATEST)."
                        + " Publish it first, or set verify.model and verify.version.");
    }

    /* ---------------------------------------- results that fail their checks ---------------------------------------- */

    public static CompactMLException budgetNotMet(double budget, double bestDrop, Set<Integer> floatLayers) {
        return new CompactMLException(
                RUNTIME,
                String.format(
                        Locale.ROOT,
                        "No mix of int8 and float layers meets quantize.max-accuracy-drop = %s points (best: %.3f"
                                + " points with layers %s in float). Raise the budget or try another quantize.method.",
                        budget,
                        bestDrop,
                        floatLayers));
    }

    public static CompactMLException masksNotHeld(long violations) {
        return new CompactMLException(
                RUNTIME,
                violations + " pruned weights are nonzero after fine-tuning: the masks"
                        + " were not applied on the workers.");
    }

    public static CompactMLException notAsPublished(
            String dir,
            String metric,
            double fresh,
            long examples,
            double recorded,
            long recordedExamples,
            double diff,
            double allowed) {
        return new CompactMLException(
                RUNTIME,
                String.format(
                        Locale.ROOT,
                        "Artifact %s: %s %.4f on %,d examples of"
                                + " data.eval, the manifest says %.4f on %,d (difference %.3f, allowed %.3f). The model does not"
                                + " behave as published: do not serve it.",
                        dir,
                        metric,
                        fresh,
                        examples,
                        recorded,
                        recordedExamples,
                        diff,
                        allowed));
    }

    /* ---------------------------------------- artifacts ---------------------------------------- */

    public static CompactMLException artifactConflict(String dir, String detail) {
        return new CompactMLException(
                USAGE,
                "Artifact " + dir + " already exists with different content (" + detail
                        + "). Versions are immutable: publish under a new 'publish.version'.");
    }

    public static CompactMLException artifactCorrupt(String dir, String detail) {
        return new CompactMLException(RUNTIME, "Artifact " + dir + " failed verification: " + detail);
    }

    public static CompactMLException notServable(String dir, String detail) {
        return new CompactMLException(
                RUNTIME, "Artifact " + dir + " cannot be served: " + detail + ". Publish a version that can.");
    }

    public static CompactMLException cannotListen(String host, int port, Throwable cause) {
        return new CompactMLException(
                RUNTIME,
                "Cannot listen on " + host + ":" + port + " (" + cause.getMessage()
                        + "): another process holds the port? Choose another with --port or serve.port.",
                cause);
    }

    /* ---------------------------------------- tables and queries ---------------------------------------- */

    public static CompactMLException queryFailed(String which, String why, String root, List<String> tables) {
        return new CompactMLException(USAGE, which + " failed: " + why + " Tables under " + root + ": " + tables);
    }

    public static CompactMLException badQueryFile(String problem) {
        return new CompactMLException(USAGE, problem);
    }

    /* ---------------------------------------- object storage ---------------------------------------- */

    /**
     * The user-facing error in {@code e}'s causes, or null: a {@link CompactMLException} (Spark wraps task
     * failures), else an object-storage failure ({@link #storageFailure}). What a command prints and exits with.
     */
    public static CompactMLException known(Throwable e) {
        CompactMLException known = CompactMLException.find(e);
        return known != null ? known : storageFailure(e);
    }

    /**
     * An object-storage failure anywhere in {@code e}'s causes as a user-facing error, or null: missing
     * credentials (a usage error) or an unreachable store (a runtime failure).
     */
    public static CompactMLException storageFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().endsWith("NoAuthWithAWSException")) {
                return new CompactMLException(
                        USAGE,
                        "No credentials for object storage (" + firstLine(t)
                                + "). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment of the driver and"
                                + " the executors, or configure a Hadoop credential provider"
                                + " (spark.hadoop.fs.s3a.aws.credentials.provider).");
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException
                    || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.SocketTimeoutException) {
                return new CompactMLException(
                        RUNTIME,
                        "Object storage unreachable (" + firstLine(t) + "). Check"
                                + " spark.hadoop.fs.s3a.endpoint and that the store is up; the run is marked failed and can"
                                + " be rerun.");
            }
        }
        return null;
    }

    private static String firstLine(Throwable t) {
        String m = String.valueOf(t.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
