package io.compactml.jobs.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.Task;
import io.compactml.common.model.ModelIO;
import io.compactml.common.model.NetworkSpec;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.eval.EvaluateJob;
import io.compactml.jobs.eval.VariantEvaluator;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.train.TrainJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparkDataTest {
    @TempDir
    Path dir;

    private static List<float[]> features(SparkData.Loaded d) {
        List<float[]> out = new ArrayList<>();
        for (Row r : d.rows().orderBy("row_id").collectAsList()) {
            List<Float> l = r.getList(1);
            float[] f = new float[l.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = l.get(i);
            }
            out.add(f);
        }
        return out;
    }

    private static DatasetSpec spec(String... sets) {
        return DatasetSpec.from(SharedSpark.config(sets), "eval");
    }

    @Test
    void csvNumberedColumnsAreAssembledInNumericOrder() throws IOException {
        Path csv = dir.resolve("t.csv");
        Files.writeString(csv, "px0,px1,px10,px2,label\n1,2,4,3,1\n5,6,8,7,0\n");
        SparkData.Loaded d = SparkData.load(
                SharedSpark.session(),
                spec(
                        "data.eval.format=csv",
                        "data.eval.uri=\"" + csv + "\"",
                        "data.eval.features=\"px*\"",
                        "data.eval.scaling=none"));
        assertEquals(4, d.inputs());
        List<float[]> f = features(d);
        assertArrayEquals(new float[] {1, 2, 3, 4}, f.get(0), "px0, px1, px2, px10");
        assertArrayEquals(new float[] {5, 6, 7, 8}, f.get(1));
    }

    @Test
    void parquetVectorAndArrayColumnsAreRead() {
        StructType schema = new StructType()
                .add("v", new VectorUDT())
                .add("a", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("y", DataTypes.IntegerType);
        List<Row> rows = List.of(RowFactory.create(Vectors.dense(0.5, 1.5), new double[] {3, 4}, 1));
        String path = dir.resolve("p.parquet").toString();
        SharedSpark.session().createDataFrame(rows, schema).write().parquet(path);
        for (String column : List.of("v", "a")) {
            SparkData.Loaded d = SparkData.load(
                    SharedSpark.session(),
                    spec(
                            "data.eval.format=parquet",
                            "data.eval.uri=\"" + path + "\"",
                            "data.eval.features=" + column,
                            "data.eval.label=y"));
            assertEquals(2, d.inputs());
            assertArrayEquals(
                    column.equals("v") ? new float[] {0.5f, 1.5f} : new float[] {3, 4},
                    features(d).get(0));
        }
    }

    @Test
    void minibatchesReadTheValuesWhateverTheColumnTypes() {
        // rows as a caller may hand them over (an inference-log window, a join): int ids, double features with a
        // null element, float labels; read from Spark's binary rows, the wrong type would be the wrong bits
        StructType schema = new StructType()
                .add("row_id", DataTypes.IntegerType)
                .add("features", DataTypes.createArrayType(DataTypes.DoubleType, true))
                .add("label", DataTypes.FloatType)
                .add("outputs", DataTypes.createArrayType(DataTypes.FloatType));
        List<Row> rows = List.of(
                RowFactory.create(0, new Double[] {0.25, -1.5, 3.0}, 1f, new Float[] {0.5f, -2f}),
                RowFactory.create(1, new Double[] {1e-3, null, 7.0}, 0f, new Float[] {1f, 2f}));
        SparkData.Loaded d = new SparkData.Loaded(
                spec("data.eval.scaling=none"),
                SharedSpark.session().createDataFrame(rows, schema).coalesce(1),
                3);
        // [first row, features, carried] of each batch (a batch itself is not serialized)
        List<List<Object>> batches = SparkData.batched(
                        d, 3, 2, Task.CLASSIFICATION, 8, false, r -> RowBatches.floats(r, 3))
                .map(b -> List.<Object>of(
                        b.firstRow(), b.data().getFeatures().toFloatMatrix(), new ArrayList<>(b.carried())))
                .collect();
        assertEquals(1, batches.size());
        assertEquals(0L, batches.get(0).get(0));
        float[][] x = (float[][]) batches.get(0).get(1);
        assertArrayEquals(new float[] {0.25f, -1.5f, 3f}, x[0]);
        assertEquals(1e-3f, x[1][0]);
        assertTrue(Float.isNaN(x[1][1]), "a null element reads as NaN");
        assertEquals(7f, x[1][2]);
        @SuppressWarnings("unchecked")
        List<float[]> carried = (List<float[]>) batches.get(0).get(2);
        assertArrayEquals(new float[] {0.5f, -2f}, carried.get(0));
        assertArrayEquals(new float[] {1f, 2f}, carried.get(1));
    }

    @Test
    void idxSlicesReadInParallelKeepTheirOrder() throws IOException {
        Path images = dir.resolve("img.idx");
        Path labels = dir.resolve("lab.idx");
        byte[] img = new byte[16 + 5 * 4];
        System.arraycopy(new byte[] {0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 2}, 0, img, 0, 16);
        for (int i = 0; i < 20; i++) {
            img[16 + i] = (byte) i;
        }
        Files.write(images, img);
        Files.write(labels, new byte[] {0, 0, 8, 1, 0, 0, 0, 5, 4, 3, 2, 1, 0});
        SparkData.Loaded d = SparkData.load(
                SharedSpark.session(),
                spec(
                        "data.eval.uri=\"" + images + "\"",
                        "data.eval.labels-uri=\"" + labels + "\"",
                        "data.eval.partitions=3",
                        "data.eval.scaling=none"));
        assertEquals(3, d.rows().rdd().getNumPartitions());
        List<float[]> f = features(d);
        assertEquals(5, f.size());
        assertArrayEquals(new float[] {16, 17, 18, 19}, f.get(4));
        List<Row> rows = d.rows().orderBy("row_id").collectAsList();
        assertEquals(4.0, rows.get(0).getDouble(2));
        assertEquals(0.0, rows.get(4).getDouble(2));
    }

    @Test
    void missingDatasetNamesThePathAndHowToGetFashionMnist() {
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> SparkData.load(
                        SharedSpark.session(),
                        spec("data.eval.uri=\"/nonexistent/fashion-mnist/t10k-images-idx3-ubyte.gz\"")));
        assertEquals(2, e.exitCode());
        assertTrue(
                e.getMessage().contains("/nonexistent/fashion-mnist/t10k-images-idx3-ubyte.gz")
                        && e.getMessage().contains("apt-get install dataset-fashion-mnist"),
                e.getMessage());
    }

    @Test
    void aBadLabelInsideASparkTaskSurfacesAsTheSameClearError() throws IOException {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "f0,label\n0.5,1\n0.25,12\n");
        SparkData.Loaded d = SparkData.load(
                SharedSpark.session(),
                spec(
                        "data.eval.format=csv",
                        "data.eval.uri=\"" + csv + "\"",
                        "data.eval.features=\"f*\"",
                        "data.eval.scaling=none"));
        Exception e = assertThrows(
                Exception.class,
                () -> SparkData.minibatches(d, 1, 10, Task.CLASSIFICATION, 8).count());
        CompactMLException cause = CompactMLException.find(e);
        assertNotNull(cause, "Spark keeps the task's exception as the cause: " + e);
        assertTrue(cause.getMessage().contains("label 12.0 is not a class index in [0, 9]"), cause.getMessage());
    }

    @Test
    void evaluationDoesNotDependOnPartitioning() {
        MultiLayerNetwork net = new MultiLayerNetwork(
                NetworkSpec.from(SharedSpark.config("network.hidden=[16]")).build(784));
        net.init();
        byte[] zip = ModelIO.toBytes(net);
        Map<String, Double> reference = null;
        for (int parts : new int[] {1, 3}) {
            SparkData.Loaded d =
                    SparkData.load(SharedSpark.session(), spec("data.eval.limit=600", "data.eval.partitions=" + parts));
            Map<String, Double> m = VariantEvaluator.evaluate(
                    JavaSparkContext.fromSparkContext(SharedSpark.session().sparkContext()),
                    zip,
                    "random",
                    SparkData.minibatches(d, 784, 10, Task.CLASSIFICATION, 64),
                    Task.CLASSIFICATION,
                    10,
                    3);
            if (reference == null) {
                reference = m;
                continue;
            }
            for (Map.Entry<String, Double> e : reference.entrySet()) {
                // counts are exact; the loss sums floats in another order (BLAS blocks by batch shape)
                assertEquals(e.getValue(), m.get(e.getKey()), e.getKey().equals("loss") ? 1e-6 : 0.0, e.getKey());
            }
        }
    }

    @Test
    void regressionTrainsOnACsvTarget() throws IOException {
        // y = 2a - b + 0.5 with a, b uniform in [0, 1): variance of y is 4/12 + 1/12
        Path csv = dir.resolve("reg.csv");
        StringBuilder sb = new StringBuilder("x1,x2,y\n");
        Random rnd = new Random(7);
        for (int i = 0; i < 1024; i++) {
            double a = rnd.nextDouble();
            double b = rnd.nextDouble();
            sb.append(a)
                    .append(',')
                    .append(b)
                    .append(',')
                    .append(2 * a - b + 0.5)
                    .append('\n');
        }
        Files.writeString(csv, sb);
        String[] data = {"format=csv", "uri=\"" + csv + "\"", "features=\"x*\"", "label=y", "scaling=none"};
        List<String> sets = new ArrayList<>(List.of(
                "task=regression",
                "network.outputs=1",
                "network.hidden=[16]",
                "train.epochs=15",
                "train.batch-size=32",
                "train.learning-rate=0.01",
                "train.averaging-frequency=4"));
        for (String split : List.of("train", "eval")) {
            for (String kv : data) {
                sets.add("data." + split + "." + kv);
            }
        }
        JobContext ctx = JobContext.of(SharedSpark.session(), SharedSpark.config(sets.toArray(String[]::new)), "reg-1");
        TrainJob.Result trained = new TrainJob(ctx).run();
        assertTrue(Double.isNaN(trained.history().get(0).valAccuracy()), "no accuracy for regression");
        Map<String, Double> m = new EvaluateJob(ctx).run().metrics();
        assertTrue(m.get("r2") > 0.9, "r2 " + m.get("r2") + ", mse " + m.get("mse"));
        assertTrue(m.get("mse") < 0.1 * (5.0 / 12), "mse " + m.get("mse"));
    }
}
