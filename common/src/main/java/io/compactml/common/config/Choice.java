package io.compactml.common.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A value of an enumerated config key, implemented by the enum that holds the allowed values (so that the list
 * of allowed values is written once, in the enum). Its {@link #id()} is how it is written in config files, tables
 * and messages; {@link #aliases()} are older spellings still accepted and read as this value.
 */
public interface Choice {
    /** The enum constant's name (every enum has it). */
    String name();

    /** As written in config files: the constant's name in lower case, '_' as '-' ({@code PER_CHANNEL -> per-channel}). */
    default String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Earlier spellings that mean this value. */
    default List<String> aliases() {
        return List.of();
    }

    /** Every id of {@code type}, in declaration order. */
    static <E extends Enum<E> & Choice> List<String> ids(Class<E> type) {
        List<String> out = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            out.add(e.id());
        }
        return out;
    }

    /** alias -> id, for every alias of {@code type}. */
    static <E extends Enum<E> & Choice> Map<String, String> aliasMap(Class<E> type) {
        Map<String, String> out = new LinkedHashMap<>();
        for (E e : type.getEnumConstants()) {
            e.aliases().forEach(a -> out.put(a, e.id()));
        }
        return out;
    }

    /**
     * The value whose id or alias is {@code text}.
     *
     * @throws IllegalArgumentException when none is (a validated config never holds such a value)
     */
    static <E extends Enum<E> & Choice> E parse(Class<E> type, String text) {
        for (E e : type.getEnumConstants()) {
            if (e.id().equals(text) || e.aliases().contains(text)) {
                return e;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not one of " + ids(type));
    }
}
