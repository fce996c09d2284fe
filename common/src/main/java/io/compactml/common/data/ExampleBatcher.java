package io.compactml.common.data;

import io.compactml.common.Errors;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns rows (features, label) into DL4J minibatches, checking every row on the way: feature length,
 * finite values, and for classification a label that is a class index below {@code outputs}.
 *
 * <p>Classification labels become one-hot rows of width {@code outputs}; regression labels a single column
 * (multi-target regression is not supported yet). Not thread-safe; one per partition.
 */
public final class ExampleBatcher {
    private final String dataset;
    private final String column;
    private final int inputs;
    private final int outputs;
    private final Task task;
    private final Scaling scaling;
    private final int batchSize;
    private final List<float[]> features = new ArrayList<>();
    private final List<Double> labels = new ArrayList<>();

    public ExampleBatcher(
            String dataset, String column, int inputs, int outputs, Task task, Scaling scaling, int batchSize) {
        if (task == Task.REGRESSION && outputs != 1) {
            throw Errors.badConfigValue("network.outputs", outputs, "1 for regression (one target column)");
        }
        this.dataset = dataset;
        this.column = column;
        this.inputs = inputs;
        this.outputs = outputs;
        this.task = task;
        this.scaling = scaling;
        this.batchSize = batchSize;
    }

    /**
     * Adds one example; returns a full minibatch when one is ready, else null.
     *
     * @param row the example's index in its data set, for error messages
     */
    public DataSet add(long row, float[] x, double label) {
        checkLength(x);
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw Errors.notFinite(dataset, row, "a feature");
            }
        }
        if (!Double.isFinite(label)) {
            throw Errors.notFinite(dataset, row, "the label");
        }
        if (task == Task.CLASSIFICATION && (label < 0 || label >= outputs || label != Math.rint(label))) {
            throw Errors.labelOutOfRange(dataset, row, label, outputs);
        }
        return append(x, label);
    }

    /**
     * Adds one example without a label, for calibration: its label row stays zero, and NaN or infinite
     * features pass (calibration counts them per tensor instead of failing on the first).
     */
    public DataSet addUnlabeled(float[] x) {
        checkLength(x);
        return append(x, Double.NaN);
    }

    private void checkLength(float[] x) {
        if (x.length != inputs) {
            throw Errors.featureLengthMismatch(dataset, column, inputs, x.length);
        }
    }

    private DataSet append(float[] x, double label) {
        features.add(x);
        labels.add(label);
        return features.size() >= batchSize ? flush() : null;
    }

    /** The examples not yet returned, as a last (smaller) minibatch, or null when there are none. */
    public DataSet flush() {
        int n = features.size();
        if (n == 0) {
            return null;
        }
        float[][] xs = new float[n][];
        float[][] ys = new float[n][task == Task.CLASSIFICATION ? outputs : 1];
        for (int i = 0; i < n; i++) {
            float[] raw = features.get(i);
            float[] scaled = new float[raw.length];
            for (int j = 0; j < raw.length; j++) {
                scaled[j] = scaling.apply(raw[j]);
            }
            xs[i] = scaled;
            double y = labels.get(i);
            if (Double.isNaN(y)) {
                // unlabeled
                continue;
            }
            if (task == Task.CLASSIFICATION) {
                ys[i][(int) y] = 1f;
            } else {
                ys[i][0] = (float) y;
            }
        }
        features.clear();
        labels.clear();
        INDArray f = Nd4j.create(xs);
        INDArray l = Nd4j.create(ys);
        return new DataSet(f, l);
    }
}
