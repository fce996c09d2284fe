package io.compactml.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.compactml.common.config.ConfigKey;
import io.compactml.common.config.ConfigKeys;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jobs}: the subcommands and their options, for people; with {@code --json} also the config keys, for the
 * checks of the Airflow DAGs (airflow-dags/check_dags.py).
 */
@Command(name = "jobs", description = "List the jobs and their options.")
public final class JobsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Machine-readable output.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (Map.Entry<String, CommandLine> e : spec.parent().subcommands().entrySet()) {
            CommandSpec sub = e.getValue().getCommandSpec();
            if (!sub.name().equals(e.getKey())) {
                continue; // an alias: listed with its command
            }
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("name", e.getKey());
            job.put("description", String.join(" ", sub.usageMessage().description()));
            List<String> opts = new ArrayList<>();
            sub.options().forEach(o -> opts.add(o.longestName()));
            job.put("options", opts);
            job.put("aliases", List.of(sub.aliases()));
            jobs.add(job);
        }
        if (json) {
            System.out.println(new ObjectMapper()
                    .writerWithDefaultPrettyPrinter()
                    .writeValueAsString(Map.of(
                            "main_class", CompactmlCommand.MAIN_CLASS, "jobs", jobs, "config_keys", configKeys())));
        } else {
            jobs.forEach(j -> System.out.printf("%-10s %s%n", j.get("name"), j.get("description")));
        }
        return 0;
    }

    /** Every config key, and the older names still accepted: a DAG may use either. */
    private static List<String> configKeys() {
        List<String> keys = new ArrayList<>();
        for (ConfigKey k : ConfigKeys.all()) {
            keys.add(k.name());
            keys.addAll(k.aliases());
        }
        return keys;
    }
}
