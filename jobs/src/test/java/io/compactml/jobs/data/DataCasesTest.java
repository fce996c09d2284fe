package io.compactml.jobs.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.CompactMLException;
import io.compactml.common.data.DatasetSpec;
import io.compactml.jobs.SharedSpark;
import io.compactml.jobs.runtime.JobContext;
import io.compactml.jobs.train.TrainJob;
import org.junit.jupiter.api.Test;

/**
 * Tables as R and spreadsheets export them (cases C10 and C11 of the cases this project got wrong): column names
 * with dots, labels that are class names, a column that is not there.
 */
class DataCasesTest {
    @Test
    void columnNamesWithDotsAreColumnsNotStructFields() {
        // C10: features f.0 .. f.3 (R's write.csv style), then a label named class.id
        TrainJob.Result byFeatures = new TrainJob(JobContext.of(
                        SharedSpark.session(),
                        SharedSpark.config(SharedSpark.onCsv("dot_header.csv", "f.*", "label")
                                .toArray(String[]::new)),
                        "c10"))
                .run();
        assertEquals(2, byFeatures.history().size());
        SparkData.Loaded dotted = SparkData.load(
                SharedSpark.session(),
                DatasetSpec.from(
                        SharedSpark.config(SharedSpark.onCsv("dot_label.csv", "f*", "class.id")
                                .toArray(String[]::new)),
                        "train"));
        assertEquals(4, dotted.inputs());
        assertEquals(100, dotted.rows().count());
        TrainJob.Result byLabel = new TrainJob(JobContext.of(
                        SharedSpark.session(),
                        SharedSpark.config(SharedSpark.onCsv("dot_label.csv", "f*", "class.id")
                                .toArray(String[]::new)),
                        "c10b"))
                .run();
        assertEquals(2, byLabel.history().size());
    }

    @Test
    void classNamesAsLabelsAreAUsageErrorNamingTheColumnAndAValue() {
        // C11: the labels are "setosa", "versicolor": not NaN, not infinite, but text
        CompactMLException e = assertThrows(
                CompactMLException.class,
                () -> SparkData.load(
                        SharedSpark.session(),
                        DatasetSpec.from(
                                SharedSpark.config(SharedSpark.onCsv("string_label.csv", "f*", "label")
                                        .toArray(String[]::new)),
                                "train")));
        assertEquals(2, e.exitCode());
        assertTrue(e.getMessage().contains("label column 'label' holds text such as '"), e.getMessage());
        assertTrue(e.getMessage().contains("versicolor") || e.getMessage().contains("setosa"), e.getMessage());
        assertTrue(!e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void aColumnThatIsNotThereIsNamedWithTheColumnsThatAre() {
        for (String[] named : new String[][] {{"f.*", "class"}, {"g*", "class.id"}, {"features", "class.id"}}) {
            CompactMLException e = assertThrows(
                    CompactMLException.class,
                    () -> SparkData.load(
                            SharedSpark.session(),
                            DatasetSpec.from(
                                    SharedSpark.config(SharedSpark.onCsv("dot_label.csv", named[0], named[1])
                                            .toArray(String[]::new)),
                                    "train")));
            assertEquals(2, e.exitCode());
            assertTrue(e.getMessage().contains("columns are [class.id, f0, f1, f2, f3]"), e.getMessage());
        }
    }
}
