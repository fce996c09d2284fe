package io.compactml.common.config;

import io.compactml.common.Errors;
import java.util.List;
import java.util.Map;

/**
 * One documented config key: its name (kebab-case, dotted), type, default and the sentence that explains it.
 *
 * @param name     full dotted path, e.g. {@code train.batch-size}
 * @param type     how the value is parsed and checked
 * @param fallback the default, in the type's Java form (String, Integer, Double, Boolean, List of Integer)
 * @param doc      one sentence for people
 * @param allowed  for {@link Type#ENUM} and {@link Type#ENUM_LIST}: the allowed values
 * @param min      for numbers: the smallest allowed value (inclusive)
 * @param max      for numbers: the largest allowed value (inclusive)
 * @param aliases  earlier names of the key, still accepted and read as this key
 * @param valueAliases for enumerated keys: earlier spellings of values, and the value each means
 */
public record ConfigKey(
        String name,
        Type type,
        Object fallback,
        String doc,
        List<String> allowed,
        double min,
        double max,
        List<String> aliases,
        Map<String, String> valueAliases) {

    /** The kinds of value a key can hold. */
    public enum Type {
        STRING,
        /** A string that becomes one segment of a path: a model name, a version, a run id (see {@link #isName}). */
        NAME,
        INT,
        DOUBLE,
        BOOLEAN,
        ENUM,
        INT_LIST,
        STRING_LIST,
        ENUM_LIST,
        MAP
    }

    static ConfigKey string(String name, String fallback, String doc) {
        return new ConfigKey(name, Type.STRING, fallback, doc, List.of(), 0, 0, List.of(), Map.of());
    }

    /** A {@link Type#NAME} key; empty is allowed where the fallback is empty (it means "the default"). */
    static ConfigKey name(String name, String fallback, String doc) {
        return new ConfigKey(name, Type.NAME, fallback, doc, List.of(), 0, 0, List.of(), Map.of());
    }

    /**
     * Whether {@code s} can be one segment of a path under the tables, models and artifacts roots: 1 to 128
     * characters, none of them '/', '\\' or a control character, and not "." or "..". Quotes and spaces are
     * allowed (they are quoted wherever the name reaches SQL).
     */
    public static boolean isName(String s) {
        return !s.isEmpty()
                && s.length() <= 128
                && !s.equals(".")
                && !s.equals("..")
                && s.chars().noneMatch(ch -> ch == '/' || ch == '\\' || Character.isISOControl(ch));
    }

    static ConfigKey integer(String name, int fallback, int min, int max, String doc) {
        return new ConfigKey(name, Type.INT, fallback, doc, List.of(), min, max, List.of(), Map.of());
    }

    static ConfigKey decimal(String name, double fallback, double min, double max, String doc) {
        return new ConfigKey(name, Type.DOUBLE, fallback, doc, List.of(), min, max, List.of(), Map.of());
    }

    static ConfigKey bool(String name, boolean fallback, String doc) {
        return new ConfigKey(name, Type.BOOLEAN, fallback, doc, List.of(), 0, 0, List.of(), Map.of());
    }

    /** A key holding one value of {@code fallback}'s enum; the allowed values are the enum's ids. */
    static <E extends Enum<E> & Choice> ConfigKey oneOf(String name, E fallback, String doc) {
        Class<E> type = fallback.getDeclaringClass();
        return new ConfigKey(
                name, Type.ENUM, fallback.id(), doc, Choice.ids(type), 0, 0, List.of(), Choice.aliasMap(type));
    }

    static ConfigKey intList(String name, List<Integer> fallback, int min, String doc) {
        return new ConfigKey(
                name, Type.INT_LIST, fallback, doc, List.of(), min, Integer.MAX_VALUE, List.of(), Map.of());
    }

    static ConfigKey stringList(String name, List<String> fallback, String doc) {
        return new ConfigKey(name, Type.STRING_LIST, fallback, doc, List.of(), 0, 0, List.of(), Map.of());
    }

    /** A key holding a non-empty list of values of {@code type}; the default is all of them. */
    static <E extends Enum<E> & Choice> ConfigKey oneOrMoreOf(String name, Class<E> type, String doc) {
        return oneOrMoreOf(name, type, Choice.ids(type), doc);
    }

    /** A key holding a non-empty list of values of {@code type}, {@code fallback} by default. */
    static <E extends Enum<E> & Choice> ConfigKey oneOrMoreOf(
            String name, Class<E> type, List<String> fallback, String doc) {
        return new ConfigKey(
                name, Type.ENUM_LIST, fallback, doc, Choice.ids(type), 0, 0, List.of(), Choice.aliasMap(type));
    }

    /** This key, also accepted under {@code oldName} (read as this key). */
    ConfigKey alias(String oldName) {
        List<String> all = new java.util.ArrayList<>(aliases);
        all.add(oldName);
        return new ConfigKey(name, type, fallback, doc, allowed, min, max, List.copyOf(all), valueAliases);
    }

    /** {@code value} as the value it means: itself, or the value an older spelling stands for. */
    String canonicalValue(String value) {
        return valueAliases.getOrDefault(value, value);
    }

    /** Whether {@code value} is allowed: an allowed value or an older spelling of one. */
    boolean allows(String value) {
        return allowed.contains(value) || valueAliases.containsKey(value);
    }

    static ConfigKey map(String name, String doc) {
        return new ConfigKey(name, Type.MAP, Map.of(), doc, List.of(), 0, 0, List.of(), Map.of());
    }

    /** True when the key holds a credential: masked when logged, refused on the command line. */
    public boolean isSecret() {
        return isSecretName(name);
    }

    public static boolean isSecretName(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("secret")
                || n.contains("password")
                || n.contains("token")
                || n.contains("access.key")
                || n.contains("credential") && !n.contains("provider");
    }

    /** Checks a number against [min, max], naming the key as written ({@code path}) on failure. */
    void checkRange(String path, double v) {
        if (Double.isNaN(v) || v < min || v > max) {
            throw Errors.badConfigValue(
                    path, formatNumber(v), "a number in [" + formatNumber(min) + ", " + formatNumber(max) + "]");
        }
    }

    static String formatNumber(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
