package io.compactml.common.distill;

import io.compactml.common.Errors;
import io.compactml.common.config.CompactConfig;
import io.compactml.common.eval.ServingRuntime;
import io.compactml.common.model.NetworkSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How {@code teacher-outputs} and {@code distill} run ({@code distill.*}, {@code teacher-outputs.*}): the
 * student's architecture, the (T, alpha) settings tried (Hinton et al. 2015, "Distilling the Knowledge in a Neural
 * Network"), and the training budget.
 *
 * @param teacherRun        run id of the stored teacher outputs; empty means the job's own run id
 * @param student           the student network
 * @param settings          every candidate's setting, the hard-label baseline last when enabled
 * @param epochs            training epochs of every candidate
 * @param teacherBatchSize  inference minibatch of {@code teacher-outputs}
 * @param teacherRuntime    what runs the teacher in {@code teacher-outputs} ({@code teacher-outputs.runtime}): ONNX
 *                          Runtime on the float model's {@link io.compactml.common.onnx.OnnxExport#logits} graph, or
 *                          DL4J ({@link TeacherOutputs#of})
 * @param parallelism       candidates trained at once ({@code distill.parallelism}), each its own Spark job group
 */
public record DistillSettings(
        String teacherRun,
        NetworkSpec student,
        List<Setting> settings,
        int epochs,
        int teacherBatchSize,
        ServingRuntime teacherRuntime,
        int parallelism) {

    /** The name of the hard-label baseline: the same student trained with alpha 0. */
    public static final String NO_KD = "no-kd";

    /** One candidate's setting: temperature T and weight alpha of the teacher term. */
    public record Setting(String name, double temperature, double alpha) {}

    /**
     * Reads {@code distill.*}.
     *
     * @throws io.compactml.common.CompactMLException (usage) for an entry of {@code distill.settings} that is not
     *     "T:alpha" with T > 0 and alpha in [0, 1], or for no candidate at all
     */
    public static DistillSettings from(CompactConfig c) {
        return new DistillSettings(
                c.getString("distill.teacher-run"),
                NetworkSpec.student(c),
                settings(c),
                c.getInt("distill.epochs"),
                c.getInt("teacher-outputs.batch-size"),
                c.getEnum("teacher-outputs.runtime", ServingRuntime.class),
                c.getInt("distill.parallelism"));
    }

    /** These settings reading the teacher outputs of run {@code run}. */
    public DistillSettings withTeacherRun(String run) {
        return new DistillSettings(run, student, settings, epochs, teacherBatchSize, teacherRuntime, parallelism);
    }

    /** These settings with the candidates {@code candidates} instead. */
    public DistillSettings withSettings(List<Setting> candidates) {
        return new DistillSettings(
                teacherRun, student, candidates, epochs, teacherBatchSize, teacherRuntime, parallelism);
    }

    /** How the student was made, for its manifest; {@code outputsRun} is the run whose teacher outputs it learnt from. */
    public String describe(String outputsRun) {
        return "teacher outputs of run " + outputsRun + ", settings "
                + settings.stream()
                        .filter(s -> !s.name().equals(NO_KD))
                        .map(s -> trim(s.temperature()) + ":" + trim(s.alpha()))
                        .toList();
    }

    private static List<Setting> settings(CompactConfig c) {
        List<Setting> out = new ArrayList<>();
        for (String s : c.getStringList("distill.settings")) {
            out.add(parse(s, c.getStringList("distill.settings")));
        }
        if (c.getBoolean("distill.no-kd-baseline")) {
            out.add(new Setting(NO_KD, 1.0, 0.0));
        }
        if (out.isEmpty()) {
            throw Errors.badConfigValue(
                    "distill.settings",
                    List.of(),
                    "at least one \"T:alpha\" entry, or" + " distill.no-kd-baseline = true");
        }
        return out;
    }

    private static Setting parse(String s, List<String> all) {
        String[] parts = s.split(":");
        double t;
        double a;
        try {
            if (parts.length != 2) {
                throw new NumberFormatException();
            }
            t = Double.parseDouble(parts[0].trim());
            a = Double.parseDouble(parts[1].trim());
        } catch (NumberFormatException e) {
            throw Errors.badConfigValue(
                    "distill.settings", all, "entries \"T:alpha\" such as \"4:0.7\"; '" + s + "' is not one");
        }
        if (!(t > 0) || Double.isInfinite(t)) {
            throw Errors.badConfigValue("distill.settings", s, "a temperature T > 0 in \"T:alpha\"");
        }
        if (!(a >= 0 && a <= 1)) {
            throw Errors.badConfigValue("distill.settings", s, "an alpha in [0, 1] in \"T:alpha\"");
        }
        return new Setting(String.format(Locale.ROOT, "T%s-a%s", trim(t), trim(a)), t, a);
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
