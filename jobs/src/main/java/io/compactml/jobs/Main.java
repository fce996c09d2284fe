package io.compactml.jobs;

import io.compactml.common.CompactMLException;
import io.compactml.common.Errors;
import io.compactml.jobs.cli.CompactmlCommand;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * The entry point of the jar, for {@code bin/compactml} and {@code spark-submit} alike (the commands are in
 * {@link CompactmlCommand}). Exit codes: 0 success, 2 usage or config error, 1 runtime failure.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (no System.exit: usable from tests). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new CompactmlCommand());
        cl.setExecutionExceptionHandler(Main::onFailure);
        cl.setParameterExceptionHandler(Main::onBadArguments);
        return cl.execute(args);
    }

    /** An unknown option or a missing value: one line, as every other usage error, and where the options are. */
    private static int onBadArguments(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("error: " + e.getMessage() + ". Run `" + cl.getCommandSpec().qualifiedName()
                + " --help` for the options.");
        err.flush();
        return CompactMLException.Kind.USAGE.exitCode();
    }

    private static int onFailure(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        CompactMLException known = Errors.known(e);
        if (known != null) {
            err.println("error: " + known.getMessage());
            err.flush();
            return known.exitCode();
        }
        err.println("error: " + e);
        e.printStackTrace(err);
        err.flush();
        return CompactMLException.Kind.RUNTIME.exitCode();
    }
}
