package io.compactml.jobs.pipeline;

import io.compactml.common.config.ConfigKeys;
import io.compactml.common.data.DataFormat;
import io.compactml.common.data.DatasetSpec;
import io.compactml.jobs.runtime.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What the demo sets up before it runs: Fashion-MNIST from Debian's {@code dataset-fashion-mnist} package when the
 * demo's data sets are the package's files and they are missing. It installs them with {@code apt-get} when the
 * machine allows it without a prompt (as root, or through {@code sudo -n}), and says so; otherwise it does nothing,
 * and the job stops at the missing file with the message that names the package.
 */
final class DatasetSetup {
    static final String PACKAGE = "dataset-fashion-mnist";

    private DatasetSetup() {}

    /** Installs Fashion-MNIST when {@code specs} need its missing files and it can; true when it did. */
    static boolean ensure(List<DatasetSpec> specs) {
        if (!missingFashionMnist(specs)) {
            return false;
        }
        Optional<List<String>> prefix = privilege(isRoot(), canSudo());
        if (prefix.isEmpty()) {
            Console.out(
                    "demo: Fashion-MNIST is not installed, and installing it needs root (run `apt-get install %s`"
                            + " as root, or point data.* at your data)",
                    PACKAGE);
            return false;
        }
        Console.out(
                "demo: Fashion-MNIST is not installed: installing Debian's %s with apt-get%s ...",
                PACKAGE, prefix.get().isEmpty() ? "" : " through sudo");
        boolean done = run(command(prefix.get(), "apt-get", "install", "-y", "-qq", PACKAGE))
                || run(command(prefix.get(), "apt-get", "update", "-qq"))
                        && run(command(prefix.get(), "apt-get", "install", "-y", "-qq", PACKAGE));
        Console.out(done ? "demo: installed %s" : "demo: could not install %s (see the apt-get output above)", PACKAGE);
        return done;
    }

    /** Whether a data set names a file of the Fashion-MNIST package that is not there. */
    static boolean missingFashionMnist(List<DatasetSpec> specs) {
        for (DatasetSpec s : specs) {
            if (s.format() != DataFormat.IDX) {
                continue;
            }
            for (String uri : List.of(s.uri(), s.labelsUri())) {
                if (uri.startsWith(ConfigKeys.FMNIST) && !Files.exists(Path.of(uri))) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * How apt-get can run without asking anything: directly as root, through {@code sudo -n} (no password
     * prompt) when allowed, or not at all.
     */
    static Optional<List<String>> privilege(boolean root, boolean sudo) {
        if (root) {
            return Optional.of(List.of());
        }
        return sudo ? Optional.of(List.of("sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive")) : Optional.empty();
    }

    private static List<String> command(List<String> prefix, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static boolean canSudo() {
        return run(List.of("sudo", "-n", "true"));
    }

    private static boolean run(List<String> cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no such command: sudo or apt-get missing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
