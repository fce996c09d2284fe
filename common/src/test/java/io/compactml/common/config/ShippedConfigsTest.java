package io.compactml.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The configs in conf/ stay valid, and conf/local.conf stays the embedded default. */
class ShippedConfigsTest {
    private static final File CONF = new File("../conf");

    @Test
    void localConfIsExactlyTheBuiltInDefault() {
        assertEquals(
                CompactConfig.defaults().describe(),
                CompactConfig.load(new File(CONF, "local.conf"), List.of()).describe());
    }

    @Test
    void cnnAndClusterConfsAreValid() {
        CompactConfig cnn = CompactConfig.load(new File(CONF, "cnn.conf"), List.of());
        assertEquals("cnn", cnn.getString("network.type"));
        CompactConfig cluster = CompactConfig.load(new File(CONF, "cluster.conf"), List.of());
        assertEquals("s3a://compactml/warehouse", cluster.getString("tables.root"));
        assertEquals("2", cluster.getMap("spark.conf").get("spark.hadoop.fs.s3a.attempts.maximum"));
        CompactConfig local = CompactConfig.load(new File(CONF, "s3-local.conf"), List.of());
        assertEquals("s3a://compactml/artifacts", local.getString("artifacts.root"));
        assertEquals("http://127.0.0.1:9100", local.getMap("spark.conf").get("spark.hadoop.fs.s3a.endpoint"));
        CompactConfig localCluster = CompactConfig.load(new File(CONF, "cluster-local.conf"), List.of());
        assertEquals("s3a://compactml/models", localCluster.getString("models.root"));
        assertEquals("http://127.0.0.1:9100", localCluster.getMap("spark.conf").get("spark.hadoop.fs.s3a.endpoint"));
        assertEquals("4", localCluster.getMap("spark.conf").get("spark.sql.shuffle.partitions"));
    }
}
