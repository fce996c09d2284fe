package io.compactml.jobs.eval;

import io.compactml.common.data.Task;
import io.compactml.common.eval.ClassificationTally;
import io.compactml.common.eval.MetricTally;
import io.compactml.common.eval.RegressionTally;
import io.compactml.common.eval.Variant;
import io.compactml.common.quant.Sqnr;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Evaluates several {@link Variant}s of a model in one distributed pass: every partition loads every variant
 * once, runs each minibatch through all of them and compares each output with the first variant's (the
 * reference) for the SQNR. So per-layer sensitivity trials run side by side as Spark work over the data. The
 * model zip is broadcast once; tallies are tree-reduced on the way to the driver.
 */
public final class VariantEvaluator {
    private VariantEvaluator() {}

    /** Metrics of one float model zip over {@code batches}: a one-variant pass, without the SQNR. */
    public static Map<String, Double> evaluate(
            JavaSparkContext jsc,
            byte[] modelZip,
            String source,
            JavaRDD<DataSet> batches,
            Task task,
            int classes,
            int topK) {
        Map<String, Double> m = new LinkedHashMap<>(
                evaluate(jsc, List.of(new Variant(source, Variant.Kind.FLOAT, modelZip)), batches, task, classes, topK)
                        .get(source));
        m.remove("sqnr_db");
        return m;
    }

    /** Metrics per variant name, in order; each map includes {@code sqnr_db} against the reference. */
    public static Map<String, Map<String, Double>> evaluate(
            JavaSparkContext jsc, List<Variant> variants, JavaRDD<DataSet> batches, Task task, int classes, int topK) {
        Broadcast<List<Variant>> b = jsc.broadcast(variants);
        try {
            Partial total = batches.mapPartitions((Iterator<DataSet> it) -> {
                        List<Variant.Runner> runners = new ArrayList<>();
                        for (Variant v : b.value()) {
                            runners.add(v.load());
                        }
                        Partial p = new Partial(runners.size(), task, classes, topK);
                        while (it.hasNext()) {
                            DataSet ds = it.next();
                            INDArray reference = null;
                            for (int i = 0; i < runners.size(); i++) {
                                INDArray out = runners.get(i).output(ds.getFeatures());
                                reference = i == 0 ? out : reference;
                                p.add(i, out, ds.getLabels(), reference);
                            }
                        }
                        return List.of(p).iterator();
                    })
                    .treeReduce(Partial::merge);
            Map<String, Map<String, Double>> out = new LinkedHashMap<>();
            for (int i = 0; i < variants.size(); i++) {
                Map<String, Double> m = new LinkedHashMap<>(total.tallies.get(i).metrics());
                m.put("sqnr_db", total.sqnr.get(i).db());
                out.put(variants.get(i).name(), m);
            }
            return out;
        } finally {
            b.destroy();
        }
    }

    /** Per-variant tallies of one partition. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static final class Partial implements java.io.Serializable {
        final List<MetricTally> tallies = new ArrayList<>();
        final List<Sqnr> sqnr = new ArrayList<>();

        Partial(int n, Task task, int classes, int topK) {
            for (int i = 0; i < n; i++) {
                tallies.add(
                        task == Task.CLASSIFICATION ? new ClassificationTally(classes, topK) : new RegressionTally());
                sqnr.add(new Sqnr());
            }
        }

        void add(int i, INDArray out, INDArray labels, INDArray reference) {
            tallies.get(i).add(out, labels);
            if (i > 0) {
                // the reference against itself has no noise: its Sqnr stays empty, +Infinity dB
                sqnr.get(i).add(reference, out);
            }
        }

        Partial merge(Partial o) {
            for (int i = 0; i < tallies.size(); i++) {
                tallies.set(i, tallies.get(i).merge(o.tallies.get(i)));
                sqnr.set(i, sqnr.get(i).merge(o.sqnr.get(i)));
            }
            return this;
        }
    }
}
