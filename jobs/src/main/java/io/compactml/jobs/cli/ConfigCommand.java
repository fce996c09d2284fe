package io.compactml.jobs.cli;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.config.ConfigKey;
import io.compactml.common.config.ConfigKeys;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code config}: every key with its default and documentation, or the effective values. */
@Command(name = "config", description = "List config keys (default), or print the effective config (--effective).")
public final class ConfigCommand implements Callable<Integer> {
    @Mixin
    JobOptions options;

    @Option(names = "--effective", description = "Print the validated effective config, secrets masked.")
    boolean effective;

    @Override
    public Integer call() {
        CompactConfig config = options.load();
        if (effective) {
            System.out.print(config.render());
            return 0;
        }
        for (ConfigKey k : ConfigKeys.all()) {
            System.out.printf(
                    "%-32s %-14s %s%n    %s%n",
                    k.name(),
                    k.type().name().toLowerCase(java.util.Locale.ROOT),
                    k.type() == ConfigKey.Type.MAP ? "{}" : k.fallback(),
                    k.doc());
        }
        return 0;
    }
}
