package io.compactml.common;

/**
 * A failure a person can act on: the message names what is wrong and what to do next.
 *
 * <p>{@link Kind#USAGE} means the command or its configuration is wrong (exit code 2); {@link Kind#RUNTIME}
 * means the job ran and failed on its data, its model or its infrastructure (exit code 1). Build instances
 * through {@link Errors} so that messages stay consistent.
 */
public final class CompactMLException extends RuntimeException {

    /** Which side has to act: the caller (usage) or the environment (runtime). */
    public enum Kind {
        USAGE(2),
        RUNTIME(1);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    private final Kind kind;

    public CompactMLException(Kind kind, String message) {
        this(kind, message, null);
    }

    public CompactMLException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public int exitCode() {
        return kind.exitCode();
    }

    /** The first {@code CompactMLException} in a cause chain (Spark wraps task failures), or null. */
    public static CompactMLException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CompactMLException e) {
                return e;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }
}
