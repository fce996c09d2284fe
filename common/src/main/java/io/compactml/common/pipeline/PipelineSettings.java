package io.compactml.common.pipeline;

import io.compactml.common.config.CompactConfig;
import java.util.List;

/**
 * A compression plan ({@code pipeline.*}): its candidates, the constraints the shipped one must meet, and
 * whether it is published.
 *
 * @param candidates  the plan's candidates, parsed and checked
 * @param constraints the limits of {@link Selection}
 * @param publish     publish the chosen candidate
 */
public record PipelineSettings(List<Plan.Candidate> candidates, Selection.Constraints constraints, boolean publish) {

    /**
     * Reads {@code pipeline.*}.
     *
     * @throws io.compactml.common.CompactMLException (usage) for a candidate that cannot run
     */
    public static PipelineSettings from(CompactConfig c) {
        return new PipelineSettings(
                Plan.parse(
                        c.getStringList("pipeline.candidates"),
                        "pipeline.candidates",
                        c.getEnum("quantize.method", io.compactml.common.quant.CalibrationMethod.class)),
                new Selection.Constraints(
                        c.getDouble("pipeline.max-accuracy-drop"),
                        c.getInt("pipeline.max-size-bytes"),
                        c.getDouble("pipeline.max-latency-ms"),
                        c.getDouble("pipeline.max-mse-increase"),
                        c.getDouble("pipeline.min-r2")),
                c.getBoolean("pipeline.publish"));
    }
}
