package io.compactml.jobs.data;

import io.compactml.common.Errors;
import io.compactml.common.data.DataFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.data.ExampleBatcher;
import io.compactml.common.data.IdxFile;
import io.compactml.common.data.LabelMapping;
import io.compactml.common.data.Task;
import io.compactml.common.model.ClassNames;
import io.compactml.jobs.runtime.HadoopConf;
import io.compactml.jobs.tables.Scope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import scala.Tuple2;

/**
 * Reads a {@link DatasetSpec} into a DataFrame of {@code row_id long, features array<float>, label double},
 * and turns such a frame into DL4J minibatches.
 *
 * <p>IDX files are read in parallel: each partition opens the files itself (through Hadoop, so s3a: works)
 * and streams its slice of records one at a time, so the driver only ever reads the headers and a partition
 * never holds its slice whole.
 */
public final class SparkData {
    private SparkData() {}

    public static final StructType SCHEMA = new StructType()
            .add("row_id", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("label", DataTypes.DoubleType, false);

    /** A loaded data set: its rows and the length of every feature vector. */
    public record Loaded(DatasetSpec spec, Dataset<Row> rows, int inputs) {}

    /**
     * {@code data} split into {@code [rest, held out]}, a seeded random share {@code fraction} of the rows held out
     * (Spark's {@code randomSplit}: the same rows for the same data, partitioning and seed).
     */
    public static Loaded[] holdOut(Loaded data, double fraction, long seed) {
        Dataset<Row>[] parts = data.rows().randomSplit(new double[] {1 - fraction, fraction}, seed);
        return new Loaded[] {
            new Loaded(data.spec(), parts[0], data.inputs()), new Loaded(data.spec(), parts[1], data.inputs())
        };
    }

    public static Loaded load(SparkSession spark, DatasetSpec spec) {
        return load(spark, spec, 1);
    }

    /**
     * Loads {@code spec} for {@code net}: refusing data of another width than it takes, labels mapped to its class
     * names when it stores them ({@link #forModel}).
     */
    public static Loaded loadFor(SparkSession spark, DatasetSpec spec, MultiLayerNetwork net, int batch) {
        int inputs = io.compactml.common.model.ModelShapes.inputs(net);
        Loaded data = load(spark, forModel(spec, net), batch);
        if (data.inputs() != inputs) {
            throw Errors.featureLengthMismatch(spec.name(), spec.features(), inputs, data.inputs());
        }
        return data;
    }

    /**
     * Loads with every batch of {@code batch} consecutive examples inside one partition, whatever the
     * partition count: IDX slices start at multiples of {@code batch}; tables are range-partitioned on
     * {@code row_id / batch} and sorted within partitions. Then {@link #minibatches} builds the same batches in
     * any partitioning, and a network computes bit-identical activations for them (BLAS results depend on
     * the batch's shape, not only on each row).
     */
    public static Loaded load(SparkSession spark, DatasetSpec spec, int batch) {
        Loaded loaded = read(spark, spec, batch);
        if (batch <= 1 || spec.format() == DataFormat.IDX) {
            return loaded;
        }
        Column group = functions.floor(functions.col("row_id").divide(batch));
        Dataset<Row> rows =
                loaded.rows().repartitionByRange(partitions(spark, spec), group).sortWithinPartitions("row_id");
        return new Loaded(spec, rows, loaded.inputs());
    }

    private static Loaded read(SparkSession spark, DatasetSpec spec, int batch) {
        checkMappable(spec);
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        requireExists(spec.key() + ".uri", spec.uri(), hadoop);
        if (spec.format() == DataFormat.IDX) {
            if (spec.labeled()) {
                requireExists(spec.key() + ".labels-uri", spec.labelsUri(), hadoop);
            }
            return loadIdx(spark, spec, batch);
        }
        return loadTable(spark, spec);
    }

    /**
     * A version of a data set's content as stored: a sha256 over the path, length and modification time of
     * every file it reads (as Spark's file index identifies files), 16 hex digits. Rewriting or replacing a file
     * changes it; reading the files again does not.
     */
    public static String version(DatasetSpec spec, Configuration hadoop) {
        StringBuilder id = new StringBuilder();
        List<String> uris = spec.format() == DataFormat.IDX && spec.labeled()
                ? List.of(spec.uri(), spec.labelsUri())
                : List.of(spec.uri());
        try {
            for (String uri : uris) {
                Path p = new Path(uri);
                org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(hadoop);
                List<org.apache.hadoop.fs.FileStatus> files = new ArrayList<>();
                org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(p, true);
                while (it.hasNext()) {
                    files.add(it.next());
                }
                files.sort(Comparator.comparing(f -> f.getPath().toString()));
                for (org.apache.hadoop.fs.FileStatus f : files) {
                    id.append(f.getPath())
                            .append('|')
                            .append(f.getLen())
                            .append('|')
                            .append(f.getModificationTime())
                            .append('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Listing " + spec.uri(), e);
        }
        return io.compactml.common.model.ModelIO.sha256(id.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .substring(0, 16);
    }

    private static void requireExists(String key, String uri, Configuration hadoop) {
        try {
            Path p = new Path(uri);
            if (!p.getFileSystem(hadoop).exists(p)) {
                throw Errors.datasetNotFound(key, uri);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Checking " + uri, e);
        }
    }

    private static IdxFile.Header header(String uri, Configuration hadoop) {
        try (IdxFile.Records r = open(uri, hadoop, 0, 0)) {
            return r.header();
        }
    }

    private static Loaded loadIdx(SparkSession spark, DatasetSpec spec, int batch) {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        IdxFile.Header images = header(spec.uri(), hadoop);
        if (spec.labeled()) {
            checkLabels(spec, images, header(spec.labelsUri(), hadoop));
        }
        long n = spec.limit() > 0 ? Math.min(spec.limit(), images.records()) : images.records();
        return idxRows(spark, spec, batch, n, images.recordLength());
    }

    private static void checkLabels(DatasetSpec spec, IdxFile.Header images, IdxFile.Header labels) {
        if (images.records() != labels.records()) {
            throw Errors.badDataset(
                    spec.name(),
                    spec.uri() + " holds " + images.records() + " records but " + spec.labelsUri() + " holds "
                            + labels.records() + " labels");
        }
        if (labels.recordLength() != 1) {
            throw Errors.badDataset(
                    spec.name(),
                    spec.labelsUri() + " is not a labels file (records of " + labels.recordLength() + " values)");
        }
    }

    private static Loaded idxRows(SparkSession spark, DatasetSpec spec, int batch, long n, int inputs) {
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = (int) Math.max(1, Math.min(n, partitions(spark, spec)));
        List<long[]> slices = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            long from = Math.min(n, (n * i / parts + batch - 1) / batch * batch);
            long to = i == parts - 1 ? n : Math.min(n, (n * (i + 1) / parts + batch - 1) / batch * batch);
            slices.add(new long[] {from, to - from});
        }
        HadoopConf conf = new HadoopConf(hadoop);
        String imagesUri = spec.uri();
        // without labels (a forward-only pass over unlabeled images) every row's label is NaN
        String labelsUri = spec.labeled() ? spec.labelsUri() : null;
        JavaRDD<Row> rows = jsc.parallelize(slices, parts).flatMap(slice -> {
            Configuration c = conf.get();
            IdxFile.Records x = open(imagesUri, c, slice[0], slice[1]);
            IdxFile.Records y;
            try {
                y = labelsUri == null ? null : open(labelsUri, c, slice[0], slice[1]);
            } catch (RuntimeException e) {
                x.close();
                throw e;
            }
            TaskContext.get().addTaskCompletionListener((TaskCompletionListener) task -> {
                x.close();
                if (y != null) {
                    y.close();
                }
            });
            return new Iterator<Row>() {
                private long row = slice[0];

                @Override
                public boolean hasNext() {
                    return x.hasNext();
                }

                @Override
                public Row next() {
                    return RowFactory.create(row++, x.next(), y == null ? Double.NaN : (double) y.next()[0]);
                }
            };
        });
        return new Loaded(spec, spark.createDataFrame(rows, SCHEMA), inputs);
    }

    /** The records [start, start + count) of an IDX file, streamed: a partition never holds its slice whole. */
    private static IdxFile.Records open(String uri, Configuration c, long start, long count) {
        Path p = new Path(uri);
        try {
            return IdxFile.open(p.getFileSystem(c).open(p), uri, start, count);
        } catch (IOException e) {
            throw new UncheckedIOException("Reading " + uri, e);
        }
    }

    private static int partitions(SparkSession spark, DatasetSpec spec) {
        return spec.partitions() > 0 ? spec.partitions() : spark.sparkContext().defaultParallelism();
    }

    /** The table as stored, its label column checked to exist. */
    private static Dataset<Row> readTable(SparkSession spark, DatasetSpec spec) {
        Dataset<Row> raw = spec.format() == DataFormat.CSV
                ? spark.read()
                        .option("header", "true")
                        .option("inferSchema", "true")
                        .csv(spec.uri())
                : spark.read().parquet(spec.uri());
        List<String> columns = Arrays.asList(raw.columns());
        if (!columns.contains(spec.label())) {
            throw Errors.noSuchColumn(spec, "label", spec.label(), columns);
        }
        return raw;
    }

    /** The most classes {@link #classNames} takes from a label column (more: it holds no class names). */
    public static final int MAX_CLASSES = 10_000;

    /**
     * The label vocabulary of {@code spec} ({@code label-mapping = auto}): the distinct values of its label column,
     * sorted numerically for a numeric column and by their text otherwise (as scikit-learn's {@code LabelEncoder}
     * sorts), as text. One Spark pass over the label column.
     *
     * @throws io.compactml.common.CompactMLException (usage) for IDX files (their labels are class indices), a label
     *     column with no values, or more than {@link #MAX_CLASSES} distinct values (a regression target or an id)
     */
    public static List<String> classNames(SparkSession spark, DatasetSpec spec) {
        checkMappable(spec);
        requireExists(spec.key() + ".uri", spec.uri(), spark.sparkContext().hadoopConfiguration());
        Dataset<Row> raw = readTable(spark, spec);
        Column c = column(raw, spec.label());
        boolean numeric = raw.schema().apply(spec.label()).dataType() instanceof NumericType;
        List<Row> distinct = raw.select(c.as("v"), c.cast(DataTypes.StringType).as("name"))
                .filter(c.isNotNull())
                .dropDuplicates("name")
                .limit(MAX_CLASSES + 1)
                .collectAsList();
        if (distinct.isEmpty()) {
            throw Errors.badDataset(spec.name(), "label column '" + spec.label() + "' holds no values");
        }
        if (distinct.size() > MAX_CLASSES) {
            throw Errors.badConfigValue(
                    spec.key() + ".label-mapping",
                    "auto",
                    "index: label column '" + spec.label() + "' holds more than " + MAX_CLASSES
                            + " distinct values, which are not class names (a regression target or an id?)");
        }
        List<Row> sorted = new ArrayList<>(distinct);
        sorted.sort(
                numeric
                        ? Comparator.comparingDouble((Row r) -> ((Number) r.get(0)).doubleValue())
                        : Comparator.comparing((Row r) -> r.getString(1)));
        return sorted.stream().map(r -> r.getString(1)).toList();
    }

    private static void checkMappable(DatasetSpec spec) {
        if (spec.labelMapping() == LabelMapping.AUTO && spec.format() == DataFormat.IDX) {
            throw Errors.badConfigValue(
                    spec.key() + ".label-mapping",
                    "auto",
                    "index for format = idx (its labels are class indices already)");
        }
    }

    /** {@code spec} read for {@code net}: with the class names it stores, if any ({@code label-mapping = auto}). */
    public static DatasetSpec forModel(DatasetSpec spec, MultiLayerNetwork net) {
        return spec.withClasses(ClassNames.namesOf(net));
    }

    private static Loaded loadTable(SparkSession spark, DatasetSpec spec) {
        Dataset<Row> raw = readTable(spark, spec);
        Column label = labelColumn(spec, raw);
        Column features = featuresColumn(spec, raw);
        Dataset<Row> df = withPositions(
                spark,
                raw.select(
                        functions.input_file_name().as(FILE),
                        functions.expr("input_file_block_start()").as(SPLIT),
                        functions.monotonically_increasing_id().as(READ_ID),
                        features.as("features"),
                        label.as("label")));
        if (spec.limit() > 0) {
            // the first rows of the files, whatever the splits (a limit on the read takes a partition's rows)
            df = df.filter(functions.col("row_id").lt(spec.limit()));
        }
        if (spec.partitions() > 0) {
            df = df.repartition(spec.partitions());
        }
        List<Row> first = df.select(functions.size(functions.col("features"))).takeAsList(1);
        if (first.isEmpty()) {
            throw Errors.badDataset(spec.name(), spec.uri() + " has no rows");
        }
        return new Loaded(spec, df, first.get(0).getInt(0));
    }

    private static final String FILE = "_cml_file";
    private static final String SPLIT = "_cml_split";
    private static final String READ_ID = "_cml_read_id";

    /**
     * {@code row_id} as a property of the example, not of the read: its position in the data set's files, taken in
     * path order, counting from 0. Spark splits a file by {@code spark.sql.files.maxPartitionBytes} and packs splits
     * into partitions by size, so {@code monotonically_increasing_id()} alone names other rows when the files are
     * split another way (another cluster, another setting): teacher outputs stored under it joined the wrong
     * examples. Within a split it does count rows in file order, so one small aggregation (per file and split start:
     * rows and the first read id) gives every split's offset, and {@code row_id = offset + read id - first read id}
     * is the same in every layout.
     */
    private static Dataset<Row> withPositions(SparkSession spark, Dataset<Row> located) {
        List<Row> splits = located.groupBy(FILE, SPLIT)
                .agg(
                        functions.min(READ_ID).as("_first"),
                        functions.count(functions.lit(1)).as("_rows"))
                .collectAsList();
        List<Row> ordered = new ArrayList<>(splits);
        ordered.sort(Comparator.comparing((Row r) -> r.getString(0)).thenComparingLong(r -> r.getLong(1)));
        List<Row> offsets = new ArrayList<>(ordered.size());
        long offset = 0;
        for (Row r : ordered) {
            offsets.add(RowFactory.create(r.getString(0), r.getLong(1), offset - r.getLong(2)));
            offset += r.getLong(3);
        }
        StructType schema = new StructType()
                .add(FILE, DataTypes.StringType)
                .add(SPLIT, DataTypes.LongType)
                .add("_shift", DataTypes.LongType);
        return located.join(
                        functions.broadcast(spark.createDataFrame(offsets, schema)),
                        scala.collection.JavaConverters.asScalaBuffer(List.of(FILE, SPLIT))
                                .toSeq())
                .select(
                        functions.col(READ_ID).plus(functions.col("_shift")).as("row_id"),
                        functions.col("features"),
                        functions.col("label"));
    }

    /** A column of the table by its name as written: names with dots ({@code class.id}) are not struct fields. */
    private static Column column(Dataset<Row> raw, String name) {
        return raw.col(Scope.quoted(name));
    }

    /**
     * The label column as a double. A label column of text (class names, or numbers written with units) is
     * refused naming the column and a value, before any task reads it.
     */
    private static Column labelColumn(DatasetSpec spec, Dataset<Row> raw) {
        Column c = column(raw, spec.label());
        if (spec.labelMapping() == LabelMapping.AUTO) {
            return classIndex(spec, raw, c);
        }
        DataType t = raw.schema().apply(spec.label()).dataType();
        if (!(t instanceof NumericType) && !(t instanceof org.apache.spark.sql.types.BooleanType)) {
            List<Row> bad = raw.filter(
                            c.isNotNull().and(c.cast(DataTypes.DoubleType).isNull()))
                    .select(c)
                    .takeAsList(1);
            if (!bad.isEmpty()) {
                throw Errors.labelNotNumeric(spec, String.valueOf(bad.get(0).get(0)));
            }
        }
        return c.cast(DataTypes.DoubleType);
    }

    /**
     * The label column as the index of its value in {@code spec.classes()}, a double. A label that is not one of
     * them is refused before any task reads the data, naming the value and the classes (one pass over the column).
     */
    private static Column classIndex(DatasetSpec spec, Dataset<Row> raw, Column c) {
        List<String> classes = spec.classes();
        if (classes == null) {
            throw new IllegalStateException(
                    spec.key() + " has label-mapping = auto but was read for no model's classes");
        }
        Column text = c.cast(DataTypes.StringType);
        Column position = functions.array_position(
                functions.array(classes.stream().map(functions::lit).toArray(Column[]::new)), text);
        List<Row> unknown = raw.filter(text.isNotNull().and(position.equalTo(0)))
                .select(text)
                .takeAsList(1);
        if (!unknown.isEmpty()) {
            throw Errors.unknownLabel(spec, unknown.get(0).getString(0), ClassNames.preview(classes));
        }
        return position.minus(1).cast(DataTypes.DoubleType);
    }

    private static Column featuresColumn(DatasetSpec spec, Dataset<Row> raw) {
        DataType floats = DataTypes.createArrayType(DataTypes.FloatType);
        if (spec.features().contains("*")) {
            Pattern glob = Pattern.compile(Pattern.quote(spec.features()).replace("*", "\\E(.*)\\Q"));
            List<String> matched = new ArrayList<>();
            for (String c : raw.columns()) {
                if (glob.matcher(c).matches() && !c.equals(spec.label())) {
                    matched.add(c);
                }
            }
            if (matched.isEmpty()) {
                throw Errors.noSuchColumn(spec, "features", spec.features(), Arrays.asList(raw.columns()));
            }
            matched.sort(
                    Comparator.comparing((String c) -> numericSuffix(glob, c)).thenComparing(c -> c));
            return functions
                    .array(matched.stream().map(c -> column(raw, c)).toArray(Column[]::new))
                    .cast(floats);
        }
        if (!Arrays.asList(raw.columns()).contains(spec.features())) {
            throw Errors.noSuchColumn(spec, "features", spec.features(), Arrays.asList(raw.columns()));
        }
        DataType t = raw.schema().apply(spec.features()).dataType();
        Column c = column(raw, spec.features());
        if (t instanceof VectorUDT) {
            return org.apache.spark.ml.functions.vector_to_array(c, "float32");
        }
        if (t instanceof ArrayType) {
            return c.cast(floats);
        }
        if (t instanceof NumericType) {
            return functions.array(c).cast(floats);
        }
        throw Errors.badDataset(
                spec.name(),
                "features column '" + spec.features() + "' has type " + t.simpleString()
                        + "; expected an array, an ML vector or a number");
    }

    private static long numericSuffix(Pattern glob, String column) {
        Matcher m = glob.matcher(column);
        if (m.matches() && m.groupCount() > 0) {
            String digits = m.group(1).replaceAll("\\D", "");
            if (!digits.isEmpty() && digits.length() < 18) {
                return Long.parseLong(digits);
            }
        }
        return Long.MAX_VALUE;
    }

    /** Minibatches of {@code batchSize} (the last of each partition smaller), checked row by row. */
    public static JavaRDD<DataSet> minibatches(Loaded data, int inputs, int outputs, Task task, int batchSize) {
        return batches(data, inputs, outputs, task, batchSize, true).map(Tuple2::_2);
    }

    /**
     * {@link #minibatches} keyed by batch number: the first row id of the batch divided by {@code batchSize}.
     * With data loaded for this batch size ({@link #load(SparkSession, DatasetSpec, int)}), that is the global
     * position of the batch, the same in any partitioning.
     */
    public static JavaRDD<Tuple2<Long, DataSet>> numberedMinibatches(
            Loaded data, int inputs, int outputs, Task task, int batchSize) {
        return batches(data, inputs, outputs, task, batchSize, true);
    }

    /**
     * Minibatches of features only, for calibration: labels are not read, and NaN or infinite features pass
     * through to be counted; only the feature length is checked.
     */
    public static JavaRDD<DataSet> featureBatches(Loaded data, int inputs, int batchSize) {
        return batches(data, inputs, 1, Task.REGRESSION, batchSize, false).map(Tuple2::_2);
    }

    /**
     * Numbered minibatches of features only (labels not read, NaN or infinite features passed through), for
     * forward-only passes whose statistics are kept apart by minibatch number.
     */
    public static JavaRDD<Tuple2<Long, DataSet>> numberedFeatureBatches(Loaded data, int inputs, int batchSize) {
        return batches(data, inputs, 1, Task.REGRESSION, batchSize, false);
    }

    private static JavaRDD<Tuple2<Long, DataSet>> batches(
            Loaded data, int inputs, int outputs, Task task, int batchSize, boolean labeled) {
        return batched(data, inputs, outputs, task, batchSize, labeled, null)
                .map(b -> new Tuple2<>(b.firstRow() / batchSize, b.data()));
    }

    /**
     * Minibatches of {@code batchSize} (the last of each partition smaller) with what each row carries
     * ({@code carry}: a function of the row, null for nothing), every row checked by an {@link ExampleBatcher}.
     *
     * @throws io.compactml.common.CompactMLException (usage) when {@code labeled} and the data set has no labels
     */
    public static <E> JavaRDD<RowBatches.Batch<E>> batched(
            Loaded data,
            int inputs,
            int outputs,
            Task task,
            int batchSize,
            boolean labeled,
            RowBatches.Carry<E> carry) {
        DatasetSpec spec = data.spec();
        if (labeled && !spec.labeled()) {
            throw Errors.unlabeled(spec, "This job reads labels");
        }
        String column = spec.featuresName();
        return typed(data.rows())
                .queryExecution()
                .toRdd()
                .toJavaRDD()
                .mapPartitions((Iterator<InternalRow> it) -> new RowBatches<>(
                        it,
                        new ExampleBatcher(spec.name(), column, inputs, outputs, task, spec.scaling(), batchSize),
                        labeled,
                        carry));
    }

    /**
     * {@code rows} with their first three columns of {@link #SCHEMA}'s types (row id long, features array of float,
     * label double), the others as they are: what {@link RowBatches} reads from Spark's binary rows, where a value
     * of another type would be read as the wrong bits. Casts to the type a column has cost nothing.
     */
    private static Dataset<Row> typed(Dataset<Row> rows) {
        // elements of the features may be null (read as NaN): a cast to elements that may not be is refused
        DataType[] types = {DataTypes.LongType, DataTypes.createArrayType(DataTypes.FloatType), DataTypes.DoubleType};
        String[] names = rows.columns();
        Column[] cols = new Column[names.length];
        for (int i = 0; i < names.length; i++) {
            Column c = rows.col("`" + names[i] + "`");
            cols[i] = i < types.length ? c.cast(types[i]).as(names[i]) : c;
        }
        return rows.select(cols);
    }
}
