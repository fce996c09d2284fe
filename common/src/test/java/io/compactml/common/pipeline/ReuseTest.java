package io.compactml.common.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.compactml.common.config.CompactConfig;
import io.compactml.common.prune.Criterion;
import io.compactml.common.quant.CalibrationMethod;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pipeline's reuse rules, without Spark: what changes a candidate's settings hash, what the plan needs first. */
class ReuseTest {
    private static String hash(String candidate, String sha, String... sets) {
        return Reuse.settingsHash(
                candidate, sha, CompactConfig.load(null, List.of(sets)).describe());
    }

    @Test
    void constraintsAndPublishingDoNotChangeTheHashButSettingsAndTheSourceDo() {
        String base = hash("int8:entropy", "aaa");
        assertEquals(
                base,
                hash("int8:entropy", "aaa", "pipeline.max-accuracy-drop=3", "publish.version=v9", "verify.tolerance=5"),
                "a constraint, the version or the verify tolerance: reused");
        assertNotEquals(base, hash("int8:entropy", "bbb"), "a retrained source: made again");
        assertNotEquals(base, hash("int8:entropy", "aaa", "prune.fine-tune-epochs=3"), "any setting: made again");
        assertNotEquals(base, hash("int8:mse", "aaa"), "another candidate");
        assertEquals(
                hash("prune:magnitude:0.5", "aaa", "prune.sparsity=0.5"),
                hash("prune:magnitude:0.5", "aaa", "prune.target-sparsity=0.5"),
                "an older key name is the same key");
    }

    @Test
    void sharedStagesAreWhatTheFirstStepsNeed() {
        List<Plan.Candidate> plan = Plan.parse(
                List.of(
                        "int8:entropy",
                        "prune:taylor:0.5>int8:percentile",
                        "prune:magnitude:0.9",
                        "distill>int8:mse",
                        "distill>prune:fisher:0.5"),
                "k");
        Reuse.SharedStages s = Reuse.sharedStages(plan);
        // int8 after prune stores the sparse weights as int8 and needs no calibration; steps on a student use
        // the student's own calibration and scores
        assertEquals(Set.of(CalibrationMethod.ENTROPY), s.calibration());
        assertEquals(Set.of(Criterion.TAYLOR), s.importance(), "magnitude needs no scores");
        assertTrue(s.teacherOutputs());
        Reuse.SharedStages none = Reuse.sharedStages(Plan.parse(List.of("prune:magnitude:0.5"), "k"));
        assertTrue(none.calibration().isEmpty() && none.importance().isEmpty());
        assertFalse(none.teacherOutputs());
    }
}
