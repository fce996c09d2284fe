package io.compactml.common.pipeline;

import io.compactml.common.Errors;
import io.compactml.common.artifact.ModelKind;
import io.compactml.common.config.Choice;
import io.compactml.common.prune.Criterion;
import io.compactml.common.quant.CalibrationMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The candidates of a compression plan. A candidate is a chain of steps written {@code step>step>...}:
 * {@code distill} (a student from the teacher outputs, trained with {@code distill.*}),
 * {@code prune:<criterion>:<sparsity>} (unstructured, fine-tuned with {@code prune.*}),
 * {@code int8:<calibration method>}, the same with lower weight widths {@code int4:<method>},
 * {@code int2:<method>} and {@code binary[:<method>]} (8-bit activations; {@code quantize.method} when no method
 * is named), and {@code qat:<bits>} (quantization-aware training with {@code qat.*}, then quantized at those weight
 * bits from the {@code quantize.method} calibration). Distillation can only come first, quantization only last;
 * after a prune step, int8 stores the sparse model's nonzero weights as int8 (the sparse format's int8 option),
 * which needs no calibration: {@link Candidate#work()} is the chain with such a pair made one prune step. Lower
 * widths and QAT do not follow a prune step (the sparse format stores 8-bit values, and QAT would train the zeros
 * away).
 */
public final class Plan {
    private Plan() {}

    /** What one step does. */
    public enum Kind {
        DISTILL,
        PRUNE,
        /** Post-training quantization, weights at {@link Step#bits()}. */
        INT8,
        /** Quantization-aware training, then quantization, weights at {@link Step#bits()}. */
        QAT
    }

    /**
     * One step: its kind and arguments.
     *
     * @param criterion   for prune: what ranks the weights
     * @param calibration for int8: whose activation parameters are used
     * @param sparsity    for prune: the target sparsity
     * @param int8        for prune: the nonzero weights stored as int8 (a prune step followed by int8)
     * @param bits        for int8 and qat: the weight bit width (8, 4, 2 or 1)
     */
    public record Step(
            Kind kind, Criterion criterion, CalibrationMethod calibration, double sparsity, boolean int8, int bits) {
        /** Whether this step quantizes (post-training or with training). */
        public boolean quantizes() {
            return kind == Kind.INT8 || kind == Kind.QAT;
        }

        /** The step's method as written: the criterion of a prune step, the calibration method of an int8 step. */
        public String method() {
            return switch (kind) {
                case DISTILL -> "";
                case PRUNE -> criterion.id();
                case INT8, QAT -> calibration.id();
            };
        }

        @Override
        public String toString() {
            return switch (kind) {
                case DISTILL -> "distill";
                case PRUNE -> "prune:" + criterion.id() + ":" + trim(sparsity);
                case INT8 -> ptqName(bits) + ":" + calibration.id();
                case QAT -> "qat:" + bits;
            };
        }
    }

    /** One candidate: its steps as written, and its name as written in the plan (normalized). */
    public record Candidate(String name, List<Step> steps) {
        public Step last() {
            return steps.get(steps.size() - 1);
        }

        public boolean has(Kind kind) {
            return steps.stream().anyMatch(s -> s.kind() == kind);
        }

        /** The steps as they run: a prune step followed by int8 is one prune step storing int8 values. */
        public List<Step> work() {
            List<Step> out = new ArrayList<>();
            for (Step s : steps) {
                Step previous = out.isEmpty() ? null : out.get(out.size() - 1);
                if (s.kind() == Kind.INT8 && previous != null && previous.kind() == Kind.PRUNE) {
                    out.set(
                            out.size() - 1,
                            new Step(Kind.PRUNE, previous.criterion(), null, previous.sparsity(), true, 8));
                } else {
                    out.add(s);
                }
            }
            return out;
        }

        /** The kind of model the chain makes: what its last working step makes. */
        public ModelKind kind() {
            List<Step> work = work();
            return switch (work.get(work.size() - 1).kind()) {
                case DISTILL -> ModelKind.STUDENT;
                case PRUNE -> ModelKind.PRUNED;
                case INT8, QAT -> ModelKind.INT8;
            };
        }

        /** Whether the candidate is a student alone, the one every chain that starts with distill continues from. */
        public boolean isStudent() {
            return steps.size() == 1 && steps.get(0).kind() == Kind.DISTILL;
        }

        /** A run-id-safe form of the name: {@code prune:magnitude:0.9>int8:entropy} -> {@code prune-magnitude-0.9.int8-entropy}. */
        public String slug() {
            return name.replace('>', '.').replace(':', '-');
        }
    }

    /** Parses and checks the plan's candidates; {@code key} names the config key in errors. */
    public static List<Candidate> parse(List<String> specs, String key) {
        return parse(specs, key, CalibrationMethod.PERCENTILE);
    }

    /**
     * Parses and checks the plan's candidates; {@code key} names the config key in errors, {@code method} is the
     * calibration method of {@code binary} without one and of {@code qat:<bits>} ({@code quantize.method}).
     */
    public static List<Candidate> parse(List<String> specs, String key, CalibrationMethod method) {
        if (specs.isEmpty()) {
            throw Errors.badConfigValue(
                    key, specs, "at least one candidate, e.g. [\"int8:entropy\", \"prune:magnitude:0.9\"]");
        }
        List<Candidate> out = new ArrayList<>();
        for (String spec : specs) {
            List<Step> steps = new ArrayList<>();
            for (String part : spec.strip().split(">")) {
                steps.add(step(part.strip().toLowerCase(Locale.ROOT), spec, key, method));
            }
            for (int i = 0; i < steps.size(); i++) {
                Step st = steps.get(i);
                Kind k = st.kind();
                if (k == Kind.DISTILL && i != 0 || st.quantizes() && i != steps.size() - 1) {
                    throw Errors.badConfigValue(
                            key,
                            spec,
                            "distill first and quantization (int8, int4, int2, binary, qat) last in a chain (" + st
                                    + " is step " + (i + 1) + " of " + steps.size() + ")");
                }
                boolean afterPrune = steps.subList(0, i).stream().anyMatch(p -> p.kind() == Kind.PRUNE);
                if (afterPrune && st.quantizes() && (k == Kind.QAT || st.bits() != 8)) {
                    throw Errors.badConfigValue(
                            key,
                            spec,
                            "int8 after a prune step (the sparse format stores 8-bit values; " + st
                                    + " runs on a model that is not pruned)");
                }
                if (k == Kind.PRUNE && steps.subList(0, i).stream().anyMatch(s -> s.kind() == Kind.PRUNE)) {
                    throw Errors.badConfigValue(key, spec, "at most one prune step per candidate");
                }
            }
            Candidate c = new Candidate(
                    String.join(">", steps.stream().map(Step::toString).toList()), steps);
            if (out.stream().anyMatch(o -> o.name().equals(c.name()))) {
                throw Errors.badConfigValue(key, spec, "each candidate once (" + c.name() + " is listed twice)");
            }
            out.add(c);
        }
        return out;
    }

    private static Step step(String part, String spec, String key, CalibrationMethod defaultMethod) {
        String[] f = part.split(":");
        String methods = String.join("|", Choice.ids(CalibrationMethod.class));
        String usage = "steps distill, prune:<" + String.join("|", Criterion.weightIds()) + ">:<sparsity in"
                + " (0, 1)>, int8:<" + methods + "> (int4:, int2: likewise), binary[:<" + methods + ">], qat:<8|4|2|1>,"
                + " chained with '>'";
        switch (f[0]) {
            case "distill":
                if (f.length == 1) {
                    return new Step(Kind.DISTILL, null, null, 0, false, 0);
                }
                break;
            case "prune":
                if (f.length == 3 && Criterion.weightIds().contains(f[1])) {
                    try {
                        double s = Double.parseDouble(f[2]);
                        if (s > 0 && s < 1) {
                            return new Step(Kind.PRUNE, Choice.parse(Criterion.class, f[1]), null, s, false, 0);
                        }
                    } catch (NumberFormatException e) {
                        // falls through to the error below
                    }
                }
                break;
            case "int8", "int4", "int2", "binary":
                int bits = f[0].equals("binary") ? 1 : Integer.parseInt(f[0].substring(3));
                if (f.length == 1 && bits == 1) {
                    return new Step(Kind.INT8, null, defaultMethod, 0, false, 1);
                }
                if (f.length == 2 && Choice.ids(CalibrationMethod.class).contains(f[1])) {
                    return new Step(Kind.INT8, null, CalibrationMethod.parse(f[1]), 0, false, bits);
                }
                break;
            case "qat":
                if (f.length == 2 && List.of("8", "4", "2", "1").contains(f[1])) {
                    return new Step(Kind.QAT, null, defaultMethod, 0, false, Integer.parseInt(f[1]));
                }
                break;
            default:
                break;
        }
        throw Errors.badConfigValue(key, spec, usage + "; '" + part + "' is not one");
    }

    /** The step name of post-training quantization with weights at {@code bits}. */
    private static String ptqName(int bits) {
        return bits == 1 ? "binary" : "int" + bits;
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
