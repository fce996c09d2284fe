package io.compactml.common.pipeline;

import io.compactml.common.model.ModelIO;
import io.compactml.common.prune.Criterion;
import io.compactml.common.quant.CalibrationMethod;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a rerun of a plan may reuse, and what the candidates still to make need first. A candidate already made
 * under the run is reused when its settings hash is the same; the shared stages (calibration of the source,
 * importance scores, teacher outputs) are what the candidates to make start from.
 */
public final class Reuse {
    private Reuse() {}

    /** Config key prefixes a candidate's result does not depend on: the plan's constraints, publishing, verifying. */
    static final List<String> IGNORED = List.of("pipeline.", "publish.", "verify.");

    /**
     * The shared stages candidates need: the calibration methods of quantization steps (int8, lower widths, qat) on
     * the source, the importance
     * criteria (those with data) of prune steps on the source, and whether any candidate distills (teacher
     * outputs of the source). Steps on a student use the student's own calibration and scores.
     */
    public record SharedStages(Set<CalibrationMethod> calibration, Set<Criterion> importance, boolean teacherOutputs) {}

    /**
     * A hash of what a candidate's result depends on: its name, the source model's sha256 and every setting of
     * {@code described} (a config's {@code describe()}) but the {@link #IGNORED} ones; so changing a constraint
     * reuses every candidate, and a retrained source reuses none.
     */
    public static String settingsHash(String candidate, String sourceSha256, Map<String, Object> described) {
        String settings = described.entrySet().stream()
                .filter(e -> IGNORED.stream().noneMatch(e.getKey()::startsWith))
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n"));
        return ModelIO.sha256((candidate + "\n" + sourceSha256 + "\n" + settings).getBytes(StandardCharsets.UTF_8));
    }

    /** The shared stages the candidates still to make ({@code todo}) need. */
    public static SharedStages sharedStages(List<Plan.Candidate> todo) {
        Set<CalibrationMethod> methods = EnumSet.noneOf(CalibrationMethod.class);
        Set<Criterion> criteria = EnumSet.noneOf(Criterion.class);
        for (Plan.Candidate k : todo) {
            Plan.Step first = k.work().get(0);
            if (first.quantizes()) {
                methods.add(first.calibration());
            } else if (first.kind() == Plan.Kind.PRUNE && first.criterion().needsData()) {
                criteria.add(first.criterion());
            }
        }
        return new SharedStages(methods, criteria, todo.stream().anyMatch(k -> k.has(Plan.Kind.DISTILL)));
    }
}
