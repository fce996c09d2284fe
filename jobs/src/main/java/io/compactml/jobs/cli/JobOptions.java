package io.compactml.jobs.cli;

import io.compactml.common.config.CompactConfig;
import java.io.File;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Option;

/** Options every job takes: a config file, overrides, and the run id that keys its rows. */
public final class JobOptions {
    @Option(
            names = "--config",
            paramLabel = "FILE",
            description = "HOCON config file (default: built-in defaults," + " which are conf/local.conf).")
    File config;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Override one config key (repeatable);" + " not for secrets.")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--run-id",
            paramLabel = "ID",
            description = "Run id keying every row this job writes; a rerun"
                    + " with the same id replaces that run's rows (default: <job>-<timestamp>-<random>).")
    String runId;

    public CompactConfig load() {
        return CompactConfig.load(config, sets);
    }

    public String runId(String job) {
        if (runId != null) {
            if (!runId.matches("[A-Za-z0-9._-]{1,128}")) {
                throw io.compactml.common.Errors.badConfigValue(
                        "--run-id", runId, "1 to 128 letters, digits, '.', '_' or '-'");
            }
            return runId;
        }
        return job + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    }
}
