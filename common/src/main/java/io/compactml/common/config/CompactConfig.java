package io.compactml.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.compactml.common.Errors;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The effective configuration of one job: defaults from {@link ConfigKeys}, overlaid by a HOCON file, overlaid
 * by {@code --set key=value} pairs; validated once, at load time.
 *
 * <p>Every key must be known (or sit under the free-form {@code spark.conf}); every value is checked against
 * its key's type and range. Secrets (see {@link ConfigKey#isSecretName}) are refused from the command line
 * and masked in {@link #describe()}.
 */
public final class CompactConfig {
    private static final String MASK = "****";
    private static final String NAME_RULE =
            "1 to 128 characters without '/', '\\' or control characters, not '.' or '..' (it names a directory)";

    private final Config config;

    private CompactConfig(Config config) {
        this.config = config;
    }

    /** Defaults only. */
    public static CompactConfig defaults() {
        return load(null, List.of());
    }

    /**
     * Loads and validates.
     *
     * @param file HOCON file, or null for defaults only
     * @param sets {@code key=value} overrides, applied in order (values are HOCON: lists as {@code [1,2]})
     * @throws io.compactml.common.CompactMLException (usage) naming the first bad key or value
     */
    public static CompactConfig load(File file, List<String> sets) {
        Config base = ConfigFactory.empty();
        if (file != null) {
            if (!file.isFile()) {
                throw Errors.unreadableConfig(file.getPath(), "no such file");
            }
            try {
                base = ConfigFactory.parseFile(
                        file, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw Errors.unreadableConfig(file.getPath(), e.getMessage());
            }
        }
        Config overrides = ConfigFactory.empty();
        for (String set : sets) {
            int eq = set.indexOf('=');
            if (eq <= 0) {
                throw Errors.unreadableConfig("--set " + set, "expected key=value");
            }
            String key = set.substring(0, eq).trim();
            String raw = set.substring(eq + 1).trim();
            if (ConfigKey.isSecretName(key)) {
                throw Errors.secretOnCommandLine(key);
            }
            try {
                overrides = overrides.withValue(key, parseValue(raw));
            } catch (ConfigException e) {
                throw Errors.unreadableConfig("--set " + set, e.getMessage());
            }
        }
        Config merged;
        try {
            merged = overrides.withFallback(base).resolve();
        } catch (ConfigException e) {
            throw Errors.unreadableConfig(file == null ? "--set" : file.getPath(), e.getMessage());
        }
        merged = canonical(merged);
        validate(merged);
        return new CompactConfig(canonicalValues(merged).withFallback(defaultsConfig()));
    }

    /**
     * {@code c} with every key set under an older name moved to its current name, after checking its value
     * under the name it was written with (so that an error names what the person wrote). A key set under both
     * names is refused.
     */
    private static Config canonical(Config c) {
        Config out = c;
        for (ConfigKey key : ConfigKeys.all()) {
            for (String alias : key.aliases()) {
                if (!c.hasPath(alias)) {
                    continue;
                }
                if (c.hasPath(key.name())) {
                    throw Errors.keySetTwice(key.name(), alias);
                }
                check(key, c, alias);
                out = out.withValue(key.name(), c.getValue(alias)).withoutPath(alias);
            }
        }
        return out;
    }

    /** {@code c} with the older spellings of enumerated values replaced by the values they mean. */
    private static Config canonicalValues(Config c) {
        Config out = c;
        for (ConfigKey key : ConfigKeys.all()) {
            if (key.valueAliases().isEmpty() || !c.hasPath(key.name())) {
                continue;
            }
            Object value = key.type() == ConfigKey.Type.ENUM
                    ? key.canonicalValue(c.getString(key.name()))
                    : c.getStringList(key.name()).stream()
                            .map(key::canonicalValue)
                            .toList();
            out = out.withValue(key.name(), ConfigValueFactory.fromAnyRef(value));
        }
        return out;
    }

    private static ConfigValue parseValue(String raw) {
        try {
            return ConfigFactory.parseString("v = " + raw).getValue("v");
        } catch (ConfigException e) {
            return ConfigValueFactory.fromAnyRef(raw);
        }
    }

    private static Config defaultsConfig() {
        Config c = ConfigFactory.empty();
        for (ConfigKey k : ConfigKeys.all()) {
            c = c.withValue(k.name(), ConfigValueFactory.fromAnyRef(k.fallback()));
        }
        return c;
    }

    private static void validate(Config merged) {
        Map<String, ConfigKey> known = ConfigKeys.byName();
        for (Map.Entry<String, ConfigValue> e : merged.entrySet()) {
            String path = e.getKey();
            ConfigKey key = known.get(path);
            if (key == null) {
                ConfigKey mapKey = enclosingMap(path, known);
                if (mapKey == null) {
                    throw Errors.unknownConfigKey(path, closest(path, known.keySet()));
                }
                ConfigValueType t = e.getValue().valueType();
                if (t == ConfigValueType.LIST || t == ConfigValueType.OBJECT) {
                    throw Errors.badConfigValue(path, e.getValue().unwrapped(), "a string, number or boolean");
                }
                continue;
            }
            check(key, merged, path);
        }
    }

    private static ConfigKey enclosingMap(String path, Map<String, ConfigKey> known) {
        for (ConfigKey k : known.values()) {
            if (k.type() == ConfigKey.Type.MAP && path.startsWith(k.name() + ".")) {
                return k;
            }
        }
        return null;
    }

    private static void check(ConfigKey key, Config c, String path) {
        Object raw = c.getValue(path).unwrapped();
        try {
            switch (key.type()) {
                case STRING -> c.getString(path);
                case NAME -> {
                    String v = c.getString(path);
                    if (!(v.isEmpty() && "".equals(key.fallback())) && !ConfigKey.isName(v)) {
                        throw Errors.badConfigValue(path, raw, NAME_RULE);
                    }
                }
                case INT -> {
                    double d = c.getDouble(path);
                    if (d != Math.rint(d)) {
                        throw Errors.badConfigValue(path, raw, "a whole number");
                    }
                    key.checkRange(path, d);
                }
                case DOUBLE -> key.checkRange(path, c.getDouble(path));
                case BOOLEAN -> c.getBoolean(path);
                case ENUM -> {
                    String v = c.getString(path);
                    if (!key.allows(v)) {
                        throw Errors.badConfigValue(path, v, "one of " + String.join(", ", key.allowed()));
                    }
                }
                case INT_LIST -> {
                    for (int v : c.getIntList(path)) {
                        key.checkRange(path, v);
                    }
                }
                case STRING_LIST -> c.getStringList(path);
                case ENUM_LIST -> {
                    List<String> values = c.getStringList(path);
                    if (values.isEmpty() || !values.stream().allMatch(key::allows)) {
                        throw Errors.badConfigValue(
                                path, values, "a non-empty list of " + String.join(", ", key.allowed()));
                    }
                }
                case MAP -> c.getConfig(path);
                default -> throw new IllegalStateException(key.type().name());
            }
        } catch (ConfigException.WrongType e) {
            throw Errors.badConfigValue(path, raw, describeType(key));
        }
    }

    private static String describeType(ConfigKey key) {
        return switch (key.type()) {
            case STRING -> "a string";
            case NAME -> NAME_RULE;
            case INT -> "a whole number";
            case DOUBLE -> "a number";
            case BOOLEAN -> "true or false";
            case ENUM -> "one of " + String.join(", ", key.allowed());
            case INT_LIST -> "a list of whole numbers, e.g. [512, 256]";
            case STRING_LIST -> "a list of strings, e.g. [\"0\", \"output\"]";
            case ENUM_LIST -> "a list of " + String.join(", ", key.allowed());
            case MAP -> "an object of settings";
        };
    }

    /** Up to three known keys within edit distance 3 of an unknown one, closest first. */
    static List<String> closest(String key, Iterable<String> known) {
        List<Map.Entry<String, Integer>> scored = new ArrayList<>();
        for (String k : known) {
            int d = editDistance(key, k);
            if (d <= 3) {
                scored.add(Map.entry(k, d));
            }
        }
        scored.sort(Map.Entry.comparingByValue());
        return scored.stream().limit(3).map(Map.Entry::getKey).toList();
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    public String getString(String key) {
        return config.getString(key);
    }

    public int getInt(String key) {
        return config.getInt(key);
    }

    public double getDouble(String key) {
        return config.getDouble(key);
    }

    public boolean getBoolean(String key) {
        return config.getBoolean(key);
    }

    public List<String> getStringList(String key) {
        return config.getStringList(key);
    }

    public List<Integer> getIntList(String key) {
        return config.getIntList(key);
    }

    /** The value of an enumerated key as its enum constant. */
    public <E extends Enum<E> & Choice> E getEnum(String key, Class<E> type) {
        return Choice.parse(type, config.getString(key));
    }

    /** The values of an enumerated list key as enum constants, in order. */
    public <E extends Enum<E> & Choice> List<E> getEnumList(String key, Class<E> type) {
        return config.getStringList(key).stream()
                .map(v -> Choice.parse(type, v))
                .toList();
    }

    /** A MAP key flattened to dotted keys, quoted or not in the file: {@code spark.conf} entries. */
    public Map<String, String> getMap(String key) {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : config.getConfig(key).entrySet()) {
            out.put(
                    String.join(".", ConfigUtil.splitPath(e.getKey())),
                    String.valueOf(e.getValue().unwrapped()));
        }
        return out;
    }

    /**
     * A copy with one more override (for tests, and jobs that derive settings); {@code key} may be an older name
     * of a key.
     */
    public CompactConfig with(String key, Object value) {
        Config one = ConfigFactory.empty().withValue(key, ConfigValueFactory.fromAnyRef(value));
        ConfigKey known = ConfigKeys.byAlias(key);
        if (known != null) {
            check(known, one, key);
            one = one.withValue(known.name(), one.getValue(key)).withoutPath(key);
        }
        Config c = one.withFallback(config);
        validate(c);
        return new CompactConfig(canonicalValues(c));
    }

    /** Every effective value as {@code key -> value}, sorted, secrets masked: for logs and manifests. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map.Entry<String, ConfigValue>> entries = new ArrayList<>(config.entrySet());
        entries.sort(Comparator.comparing(Map.Entry::getKey));
        Map<String, ConfigKey> known = ConfigKeys.byName();
        for (Map.Entry<String, ConfigValue> e : entries) {
            String k = String.join(".", ConfigUtil.splitPath(e.getKey()));
            out.put(k, ConfigKey.isSecretName(k) ? MASK : canonical(known.get(e.getKey()), e));
        }
        return out;
    }

    /** The value in its key's type, so that {@code 255} and {@code 255.0} describe (and hash) alike. */
    private Object canonical(ConfigKey key, Map.Entry<String, ConfigValue> e) {
        if (key == null) {
            return e.getValue().unwrapped();
        }
        return switch (key.type()) {
            case INT -> config.getInt(e.getKey());
            case DOUBLE -> config.getDouble(e.getKey());
            default -> e.getValue().unwrapped();
        };
    }

    /** One line per key, for the log. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        describe()
                .forEach((k, v) ->
                        sb.append("  ").append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }

    /** sha256 of the masked effective config: equal configs, equal hashes. */
    public String hash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(render().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
