package io.compactml.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.data.DatasetSpec;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the demo installs Fashion-MNIST, and how. */
class DatasetSetupTest {
    private static DatasetSpec spec(String... sets) {
        return DatasetSpec.from(CompactConfig.load(null, List.of(sets)), "train");
    }

    @Test
    void onlyMissingFilesOfThePackageAreInstalled() {
        assertTrue(DatasetSetup.missingFashionMnist(
                List.of(spec("data.train.uri=\"/usr/share/datasets/fashion-mnist/nope-images-idx3-ubyte.gz\""))));
        assertFalse(
                DatasetSetup.missingFashionMnist(List.of(spec("data.train.uri=\"/elsewhere/images.gz\""))),
                "the user's own data is never installed");
        assertFalse(DatasetSetup.missingFashionMnist(
                List.of(spec("data.train.format=csv", "data.train.uri=\"/usr/share/datasets/fashion-mnist/x.csv\""))));
    }

    @Test
    void aptGetRunsAsRootOrThroughSudoWithoutAPromptOrNotAtAll() {
        assertEquals(Optional.of(List.of()), DatasetSetup.privilege(true, false));
        assertEquals(
                Optional.of(List.of("sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive")),
                DatasetSetup.privilege(false, true));
        assertEquals(Optional.empty(), DatasetSetup.privilege(false, false));
    }
}
