package io.compactml.jobs.runtime;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/** The driver's Hadoop settings (S3A endpoint, credentials providers, ...) carried into tasks. */
public final class HadoopConf implements Serializable {
    private final HashMap<String, String> entries = new HashMap<>();

    public HadoopConf(Configuration conf) {
        for (Map.Entry<String, String> e : conf) {
            entries.put(e.getKey(), e.getValue());
        }
    }

    /** A fresh Configuration with the driver's settings. */
    public Configuration get() {
        Configuration c = new Configuration(false);
        entries.forEach(c::set);
        return c;
    }
}
