package io.compactml.common.config;

import io.compactml.common.Errors;
import java.util.List;

/**
 * One documented config key: its name (kebab-case, dotted), type, default and the sentence that explains it.
 *
 * @param name     full dotted path, e.g. {@code train.batch-size}
 * @param type     how the value is parsed and checked
 * @param fallback the default, in the type's Java form (String, Integer, Double, Boolean, List of Integer)
 * @param doc      one sentence for people
 * @param allowed  for {@link Type#ENUM}: the allowed values
 * @param min      for numbers: the smallest allowed value (inclusive)
 * @param max      for numbers: the largest allowed value (inclusive)
 */
public record ConfigKey(String name, Type type, Object fallback, String doc, List<String> allowed,
                        double min, double max) {

    /** The kinds of value a key can hold. */
    public enum Type { STRING, INT, DOUBLE, BOOLEAN, ENUM, INT_LIST, STRING_LIST, ENUM_LIST, MAP }

    static ConfigKey string(String name, String fallback, String doc) {
        return new ConfigKey(name, Type.STRING, fallback, doc, List.of(), 0, 0);
    }

    static ConfigKey integer(String name, int fallback, int min, int max, String doc) {
        return new ConfigKey(name, Type.INT, fallback, doc, List.of(), min, max);
    }

    static ConfigKey decimal(String name, double fallback, double min, double max, String doc) {
        return new ConfigKey(name, Type.DOUBLE, fallback, doc, List.of(), min, max);
    }

    static ConfigKey bool(String name, boolean fallback, String doc) {
        return new ConfigKey(name, Type.BOOLEAN, fallback, doc, List.of(), 0, 0);
    }

    static ConfigKey oneOf(String name, String fallback, List<String> allowed, String doc) {
        return new ConfigKey(name, Type.ENUM, fallback, doc, allowed, 0, 0);
    }

    static ConfigKey intList(String name, List<Integer> fallback, int min, String doc) {
        return new ConfigKey(name, Type.INT_LIST, fallback, doc, List.of(), min, Integer.MAX_VALUE);
    }

    static ConfigKey stringList(String name, List<String> fallback, String doc) {
        return new ConfigKey(name, Type.STRING_LIST, fallback, doc, List.of(), 0, 0);
    }

    static ConfigKey oneOrMoreOf(String name, List<String> fallback, List<String> allowed, String doc) {
        return new ConfigKey(name, Type.ENUM_LIST, fallback, doc, allowed, 0, 0);
    }

    static ConfigKey map(String name, String doc) {
        return new ConfigKey(name, Type.MAP, java.util.Map.of(), doc, List.of(), 0, 0);
    }

    /** True when the key holds a credential: masked when logged, refused on the command line. */
    public boolean isSecret() {
        return isSecretName(name);
    }

    public static boolean isSecretName(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("secret") || n.contains("password") || n.contains("token") || n.contains("access.key")
                || n.contains("credential") && !n.contains("provider");
    }

    /** Checks a number against [min, max], naming the key on failure. */
    void checkRange(double v) {
        if (Double.isNaN(v) || v < min || v > max) {
            throw Errors.badConfigValue(name, formatNumber(v), "a number in [" + formatNumber(min) + ", "
                    + formatNumber(max) + "]");
        }
    }

    static String formatNumber(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
