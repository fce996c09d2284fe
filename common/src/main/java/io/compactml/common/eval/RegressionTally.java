package io.compactml.common.eval;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Regression metrics over every output column: {@code mse} (mean squared error), {@code rmse}, {@code mae}
 * (mean absolute error) and {@code r2} (1 - SSE / SST, SST about the label mean; 0 when the labels are
 * constant). Sums are kept in double.
 */
public final class RegressionTally implements MetricTally<RegressionTally> {
    private double sse;
    private double sae;
    private double sumY;
    private double sumY2;
    private long values;
    private long n;

    @Override
    public void add(INDArray outputs, INDArray labels) {
        float[][] out = outputs.toFloatMatrix();
        float[][] lab = labels.toFloatMatrix();
        for (int i = 0; i < out.length; i++) {
            add(out[i], lab[i]);
        }
    }

    /** Adds one example's predictions and targets. */
    public void add(float[] predicted, float[] target) {
        for (int j = 0; j < predicted.length; j++) {
            double e = (double) predicted[j] - target[j];
            sse += e * e;
            sae += Math.abs(e);
            sumY += target[j];
            sumY2 += (double) target[j] * target[j];
            values++;
        }
        n++;
    }

    @Override
    public RegressionTally merge(RegressionTally o) {
        RegressionTally r = new RegressionTally();
        r.sse = sse + o.sse;
        r.sae = sae + o.sae;
        r.sumY = sumY + o.sumY;
        r.sumY2 = sumY2 + o.sumY2;
        r.values = values + o.values;
        r.n = n + o.n;
        return r;
    }

    @Override
    public long count() {
        return n;
    }

    @Override
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        double mse = values == 0 ? 0.0 : sse / values;
        double sst = values == 0 ? 0.0 : sumY2 - sumY * sumY / values;
        m.put("examples", (double) n);
        m.put("mse", mse);
        m.put("rmse", Math.sqrt(mse));
        m.put("mae", values == 0 ? 0.0 : sae / values);
        m.put("r2", sst <= 0 ? 0.0 : 1.0 - sse / sst);
        m.put("loss", mse);
        return m;
    }
}
