package io.compactml.common.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Classification metrics from a confusion matrix, a top-k hit count and a summed cross-entropy.
 *
 * <ul>
 *   <li>{@code accuracy}: argmax of the output equals the label (first index wins a tie, as ND4J's argmax).</li>
 *   <li>{@code top<k>_accuracy}: fewer than k classes have a strictly higher output than the true class.</li>
 *   <li>{@code loss}: mean of -ln(max(p_true, 1e-12)), natural log (DL4J's MCXENT score without
 *   regularization).</li>
 *   <li>{@code precision_<c>}, {@code recall_<c>}: per class; a class never predicted has precision 0 (and
 *   one never present recall 0), as scikit-learn's {@code zero_division=0}. {@code macro_f1} averages the
 *   per-class F1.</li>
 * </ul>
 */
public final class ClassificationTally implements MetricTally<ClassificationTally> {
    private static final double MIN_PROB = 1e-12;

    private final int classes;
    private final int k;
    private final long[][] confusion;
    private long topK;
    private double lossSum;
    private long n;

    public ClassificationTally(int classes, int k) {
        this.classes = classes;
        this.k = k;
        this.confusion = new long[classes][classes];
    }

    @Override
    public void add(INDArray outputs, INDArray labels) {
        float[][] out = outputs.toFloatMatrix();
        float[][] lab = labels.toFloatMatrix();
        for (int i = 0; i < out.length; i++) {
            add(out[i], argmax(lab[i]));
        }
    }

    /** Adds one example: the network's class probabilities and the true class index. */
    public void add(float[] probs, int trueClass) {
        int predicted = argmax(probs);
        confusion[trueClass][predicted]++;
        int higher = 0;
        for (float p : probs) {
            if (p > probs[trueClass]) {
                higher++;
            }
        }
        if (higher < k) {
            topK++;
        }
        lossSum += -Math.log(Math.max(probs[trueClass], MIN_PROB));
        n++;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Override
    public ClassificationTally merge(ClassificationTally o) {
        ClassificationTally r = new ClassificationTally(classes, k);
        for (int i = 0; i < classes; i++) {
            for (int j = 0; j < classes; j++) {
                r.confusion[i][j] = confusion[i][j] + o.confusion[i][j];
            }
        }
        r.topK = topK + o.topK;
        r.lossSum = lossSum + o.lossSum;
        r.n = n + o.n;
        return r;
    }

    @Override
    public long count() {
        return n;
    }

    public long[][] confusion() {
        long[][] c = new long[classes][];
        for (int i = 0; i < classes; i++) {
            c[i] = confusion[i].clone();
        }
        return c;
    }

    @Override
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        long correct = 0;
        for (int i = 0; i < classes; i++) {
            correct += confusion[i][i];
        }
        m.put("examples", (double) n);
        m.put("accuracy", n == 0 ? 0.0 : (double) correct / n);
        m.put("top" + k + "_accuracy", n == 0 ? 0.0 : (double) topK / n);
        m.put("loss", n == 0 ? 0.0 : lossSum / n);
        double f1Sum = 0;
        for (int c = 0; c < classes; c++) {
            long tp = confusion[c][c];
            long predicted = 0;
            long actual = 0;
            for (int i = 0; i < classes; i++) {
                predicted += confusion[i][c];
                actual += confusion[c][i];
            }
            double precision = predicted == 0 ? 0.0 : (double) tp / predicted;
            double recall = actual == 0 ? 0.0 : (double) tp / actual;
            m.put("precision_" + c, precision);
            m.put("recall_" + c, recall);
            f1Sum += precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
        }
        m.put("macro_f1", f1Sum / classes);
        return m;
    }
}
