package io.compactml.common.config;

/**
 * Where a job's inputs and outputs are: the roots of the tables, models and artifacts (any Hadoop path), and the
 * model it works on.
 *
 * @param tablesRoot    root of the Delta tables
 * @param modelsRoot    where jobs keep the models they make, as {@code <root>/<model>/<run-id>/<file>}
 * @param artifactsRoot where published artifacts go, as {@code <root>/<model>/<version>/}
 * @param modelName     the model's name: what it is recorded and published under, and what the models made from
 *                      it are named after
 * @param modelPath     the model file; empty means the one trained under the run id
 */
public record Locations(
        String tablesRoot, String modelsRoot, String artifactsRoot, String modelName, String modelPath) {

    public static Locations from(CompactConfig c) {
        return new Locations(
                c.getString("tables.root"),
                c.getString("models.root"),
                c.getString("artifacts.root"),
                c.getString("model.name"),
                c.getString("model.path"));
    }

    /**
     * The inference log {@code serve} writes and {@code monitor} reads: {@code serve.log-uri}, else {@code
     * <tables.root>/inference_log}.
     */
    public static String inferenceLog(CompactConfig c) {
        String uri = c.getString("serve.log-uri");
        return uri.isEmpty()
                ? new org.apache.hadoop.fs.Path(c.getString("tables.root"), "inference_log").toString()
                : uri;
    }
}
