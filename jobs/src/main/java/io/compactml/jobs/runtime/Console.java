package io.compactml.jobs.runtime;

/** What a job tells the person running it (progress, results), on stdout; logs go to stderr. */
public final class Console {
    private Console() {}

    public static void out(String format, Object... args) {
        System.out.println(String.format(java.util.Locale.ROOT, format, args));
        System.out.flush();
    }
}
