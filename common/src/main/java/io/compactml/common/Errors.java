package io.compactml.common;

import static io.compactml.common.CompactMLException.Kind.RUNTIME;
import static io.compactml.common.CompactMLException.Kind.USAGE;

import java.util.Collection;

/** Every user-facing error, built in one place: what is wrong, the value, what is allowed, what to do. */
public final class Errors {
    private Errors() {
    }

    public static CompactMLException unknownConfigKey(String key, Collection<String> closest) {
        String hint = closest.isEmpty() ? "" : " Did you mean: " + String.join(", ", closest) + "?";
        return new CompactMLException(USAGE, "Unknown config key '" + key + "'." + hint
                + " Run `compactml config` to list every key.");
    }

    public static CompactMLException badConfigValue(String key, Object value, String allowed) {
        return new CompactMLException(USAGE,
                "Config key '" + key + "' has value '" + value + "'; allowed: " + allowed + ".");
    }

    public static CompactMLException unreadableConfig(String source, String detail) {
        return new CompactMLException(USAGE, "Cannot read config " + source + ": " + detail);
    }

    public static CompactMLException secretOnCommandLine(String key) {
        return new CompactMLException(USAGE, "Config key '" + key + "' holds a secret and cannot be set on the"
                + " command line; set it in the environment (e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) or"
                + " a Hadoop credential provider.");
    }

    public static CompactMLException datasetNotFound(String key, String uri) {
        String hint = uri.contains("fashion-mnist")
                ? " Install Fashion-MNIST with `apt-get install dataset-fashion-mnist` (Debian), or point '"
                  + key + "' at your data."
                : " Check '" + key + "'.";
        return new CompactMLException(USAGE, "Dataset not found: " + uri + " (from '" + key + "')." + hint);
    }

    public static CompactMLException corruptIdx(String uri, String detail) {
        return new CompactMLException(RUNTIME, "Corrupt IDX file " + uri + ": " + detail
                + ". Re-download or reinstall the data set.");
    }

    public static CompactMLException modelNotFound(String uri, String how) {
        return new CompactMLException(USAGE, "Model not found: " + uri + ". " + how);
    }

    public static CompactMLException corruptModel(String uri, String detail) {
        return new CompactMLException(RUNTIME, "Model " + uri + " is not a readable DL4J model zip (" + detail
                + "). Retrain it or point 'model.path' at a model saved by CompactML or DL4J ModelSerializer.");
    }

    public static CompactMLException labelOutOfRange(String dataset, long row, double label, int classes) {
        return new CompactMLException(RUNTIME, "Dataset " + dataset + ", row " + row + ": label " + label
                + " is not a class index in [0, " + (classes - 1) + "]. Fix the data or set 'network.outputs'"
                + " to the number of classes.");
    }

    public static CompactMLException featureLengthMismatch(String dataset, String column, int expected,
                                                           int actual) {
        return new CompactMLException(USAGE, "Model expects " + expected + " inputs, dataset " + dataset
                + " column '" + column + "' has " + actual + ". Use a dataset and a model of the same shape.");
    }

    public static CompactMLException notFinite(String dataset, long row, String what) {
        return new CompactMLException(RUNTIME, "Dataset " + dataset + ", row " + row + ": " + what
                + " is NaN or infinite. Clean the data before training or evaluating.");
    }

    public static CompactMLException badDataset(String dataset, String detail) {
        return new CompactMLException(USAGE, "Dataset " + dataset + ": " + detail);
    }

    public static CompactMLException artifactConflict(String dir, String detail) {
        return new CompactMLException(USAGE, "Artifact " + dir + " already exists with different content ("
                + detail + "). Versions are immutable: publish under a new 'publish.version'.");
    }

    public static CompactMLException artifactCorrupt(String dir, String detail) {
        return new CompactMLException(RUNTIME, "Artifact " + dir + " failed verification: " + detail);
    }

    /**
     * An object-storage failure anywhere in {@code e}'s causes as a user-facing error, or null: missing
     * credentials (a usage error) or an unreachable store (a runtime failure).
     */
    public static CompactMLException storageFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().endsWith("NoAuthWithAWSException")) {
                return new CompactMLException(USAGE, "No credentials for object storage (" + firstLine(t)
                        + "). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment of the driver and"
                        + " the executors, or configure a Hadoop credential provider"
                        + " (spark.hadoop.fs.s3a.aws.credentials.provider).");
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof java.net.SocketTimeoutException) {
                return new CompactMLException(RUNTIME, "Object storage unreachable (" + firstLine(t) + "). Check"
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
