package io.compactml.common.pipeline;

import io.compactml.common.Errors;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The candidates of a compression plan. A candidate is a chain of steps written {@code step>step>...}:
 * {@code distill} (a student from the teacher outputs, trained with {@code distill.*}),
 * {@code prune:<criterion>:<sparsity>} (unstructured, fine-tuned with {@code prune.*}) and
 * {@code int8:<calibration method>}. Distillation can only come first and int8 only last; after a prune step,
 * int8 stores the sparse model's nonzero weights as int8 (the sparse format's int8 option), which needs no
 * calibration.
 */
public final class Plan {
    private static final Set<String> METHODS = Set.of("minmax", "percentile", "entropy", "mse");
    private static final Set<String> CRITERIA = Set.of("magnitude", "taylor", "fisher");

    private Plan() {
    }

    /** What one step does. */
    public enum Kind { DISTILL, PRUNE, INT8 }

    /** One step: its kind and arguments (criterion and sparsity for prune, method for int8). */
    public record Step(Kind kind, String method, double sparsity) {
        @Override
        public String toString() {
            return switch (kind) {
                case DISTILL -> "distill";
                case PRUNE -> "prune:" + method + ":" + trim(sparsity);
                case INT8 -> "int8:" + method;
            };
        }
    }

    /** One candidate: its steps, and its name as written in the plan (normalized). */
    public record Candidate(String name, List<Step> steps) {
        public Step last() {
            return steps.get(steps.size() - 1);
        }

        public boolean has(Kind kind) {
            return steps.stream().anyMatch(s -> s.kind() == kind);
        }

        /** A run-id-safe form of the name: {@code prune:magnitude:0.9>int8:entropy} -> {@code prune-magnitude-0.9.int8-entropy}. */
        public String slug() {
            return name.replace('>', '.').replace(':', '-');
        }
    }

    /** Parses and checks the plan's candidates; {@code key} names the config key in errors. */
    public static List<Candidate> parse(List<String> specs, String key) {
        if (specs.isEmpty()) {
            throw Errors.badConfigValue(key, specs, "at least one candidate, e.g. [\"int8:entropy\", \"prune:magnitude:0.9\"]");
        }
        List<Candidate> out = new ArrayList<>();
        for (String spec : specs) {
            List<Step> steps = new ArrayList<>();
            for (String part : spec.strip().split(">")) {
                steps.add(step(part.strip().toLowerCase(Locale.ROOT), spec, key));
            }
            for (int i = 0; i < steps.size(); i++) {
                Kind k = steps.get(i).kind();
                if (k == Kind.DISTILL && i != 0 || k == Kind.INT8 && i != steps.size() - 1) {
                    throw Errors.badConfigValue(key, spec, "distill first and int8 last in a chain (" + k.name()
                            .toLowerCase(Locale.ROOT) + " is step " + (i + 1) + " of " + steps.size() + ")");
                }
                if (k == Kind.PRUNE && steps.subList(0, i).stream().anyMatch(s -> s.kind() == Kind.PRUNE)) {
                    throw Errors.badConfigValue(key, spec, "at most one prune step per candidate");
                }
            }
            Candidate c = new Candidate(String.join(">", steps.stream().map(Step::toString).toList()), steps);
            if (out.stream().anyMatch(o -> o.name().equals(c.name()))) {
                throw Errors.badConfigValue(key, spec, "each candidate once (" + c.name() + " is listed twice)");
            }
            out.add(c);
        }
        return out;
    }

    private static Step step(String part, String spec, String key) {
        String[] f = part.split(":");
        String usage = "steps distill, prune:<magnitude|taylor|fisher>:<sparsity in (0, 1)>,"
                + " int8:<minmax|percentile|entropy|mse>, chained with '>'";
        switch (f[0]) {
            case "distill":
                if (f.length == 1) {
                    return new Step(Kind.DISTILL, "", 0);
                }
                break;
            case "prune":
                if (f.length == 3 && CRITERIA.contains(f[1])) {
                    try {
                        double s = Double.parseDouble(f[2]);
                        if (s > 0 && s < 1) {
                            return new Step(Kind.PRUNE, f[1], s);
                        }
                    } catch (NumberFormatException e) {
                        // falls through to the error below
                    }
                }
                break;
            case "int8":
                if (f.length == 2 && METHODS.contains(f[1])) {
                    return new Step(Kind.INT8, f[1], 0);
                }
                break;
            default:
                break;
        }
        throw Errors.badConfigValue(key, spec, usage + "; '" + part + "' is not one");
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
