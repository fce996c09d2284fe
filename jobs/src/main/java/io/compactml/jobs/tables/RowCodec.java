package io.compactml.jobs.tables;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The mapping between a {@link TableRow} record and a Spark row: one column per record component, in order, named
 * in snake_case ({@code modelSha256 -> model_sha256}). Java types map to Spark types as {@code String} to string,
 * {@code int}/{@code Integer} to int, {@code long} to bigint, {@code float} to float, {@code double} to double,
 * {@code boolean} to boolean, {@link Timestamp} to timestamp, {@code float[]}, {@code long[]}, {@code int[]} and
 * {@code List<String>} to arrays without null elements. A column is non-null when its component is primitive,
 * {@link Key} or {@link Required}. Rows are read back by column name, so a reader does not depend on positions.
 */
public final class RowCodec<R extends TableRow> {
    private static final ClassValue<RowCodec<?>> CODECS = new ClassValue<>() {
        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        protected RowCodec<?> computeValue(Class<?> type) {
            return new RowCodec(type);
        }
    };
    private static final Map<Class<?>, DataType> SCALARS = Map.of(
            String.class,
            DataTypes.StringType,
            int.class,
            DataTypes.IntegerType,
            Integer.class,
            DataTypes.IntegerType,
            long.class,
            DataTypes.LongType,
            Long.class,
            DataTypes.LongType,
            float.class,
            DataTypes.FloatType,
            Float.class,
            DataTypes.FloatType,
            double.class,
            DataTypes.DoubleType,
            Double.class,
            DataTypes.DoubleType,
            Timestamp.class,
            DataTypes.TimestampType);
    private static final Map<Class<?>, DataType> ARRAYS = Map.of(
            float[].class, DataTypes.FloatType, long[].class, DataTypes.LongType, int[].class, DataTypes.IntegerType);

    private final Class<R> type;
    private final RecordComponent[] components;
    private final Constructor<R> constructor;
    private final StructType schema;
    private final List<String> keys = new ArrayList<>();

    private RowCodec(Class<R> type) {
        if (!type.isRecord()) {
            throw new IllegalArgumentException(type + " is not a record");
        }
        this.type = type;
        this.components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        StructType s = new StructType();
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            types[i] = c.getType();
            boolean key = c.isAnnotationPresent(Key.class);
            boolean required =
                    key || c.isAnnotationPresent(Required.class) || c.getType().isPrimitive();
            s = s.add(column(c.getName()), sparkType(c), !required);
            if (key) {
                keys.add(column(c.getName()));
            }
        }
        this.schema = s;
        try {
            this.constructor = type.getDeclaredConstructor(types);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type + " has no canonical constructor", e);
        }
    }

    /** The codec of row record {@code type}. */
    @SuppressWarnings("unchecked")
    public static <R extends TableRow> RowCodec<R> of(Class<R> type) {
        return (RowCodec<R>) CODECS.get(type);
    }

    /** The table schema the record stands for. */
    public StructType schema() {
        return schema;
    }

    /** The {@link Key} columns, in order. */
    public List<String> keys() {
        return List.copyOf(keys);
    }

    /** The row of {@code record}: its components in order (arrays and lists as Spark accepts them). */
    public Row toRow(TableRow record) {
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            try {
                values[i] = components[i].getAccessor().invoke(record);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("reading " + components[i] + " of " + type.getSimpleName(), e);
            }
        }
        return RowFactory.create(values);
    }

    /** The record a row of this table holds, every column read by its name. */
    public R fromRow(Row row) {
        Object[] args = new Object[components.length];
        List<String> present = java.util.Arrays.asList(row.schema().fieldNames());
        for (int i = 0; i < components.length; i++) {
            String name = column(components[i].getName());
            if (!present.contains(name) && !components[i].getType().isPrimitive()) {
                // a column added since the table was written: null in the rows written before
                continue;
            }
            int at = row.fieldIndex(name);
            args[i] = row.isNullAt(at) ? null : value(row, at, components[i].getType());
        }
        try {
            return constructor.newInstance(args);
        } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("building " + type.getSimpleName() + " from " + row, e);
        }
    }

    private static Object value(Row row, int at, Class<?> t) {
        if (t == float[].class) {
            List<Float> l = row.getList(at);
            float[] out = new float[l.size()];
            for (int k = 0; k < out.length; k++) {
                out[k] = l.get(k);
            }
            return out;
        }
        if (t == long[].class) {
            return row.<Long>getList(at).stream().mapToLong(Long::longValue).toArray();
        }
        if (t == int[].class) {
            return row.<Integer>getList(at).stream().mapToInt(Integer::intValue).toArray();
        }
        if (t == List.class) {
            return List.copyOf(row.getList(at));
        }
        return row.get(at);
    }

    private static DataType sparkType(RecordComponent c) {
        Class<?> t = c.getType();
        if (SCALARS.containsKey(t)) {
            return SCALARS.get(t);
        }
        if (t == boolean.class || t == Boolean.class) {
            return DataTypes.BooleanType;
        }
        if (ARRAYS.containsKey(t)) {
            return DataTypes.createArrayType(ARRAYS.get(t), false);
        }
        Type generic = c.getGenericType();
        if (t == List.class
                && generic instanceof ParameterizedType p
                && p.getActualTypeArguments()[0] == String.class) {
            return DataTypes.createArrayType(DataTypes.StringType, false);
        }
        throw new IllegalArgumentException("no Spark type for " + c + " of " + c.getDeclaringRecord());
    }

    /** A record component's column name: camelCase to snake_case. */
    static String column(String component) {
        StringBuilder sb = new StringBuilder();
        for (char ch : component.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                sb.append('_').append(Character.toLowerCase(ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }
}
