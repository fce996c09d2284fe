package io.compactml.jobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times named passes over the same data for the benchmarks: each pass runs once to warm up, then the passes
 * run in turn {@code repeats} times (interleaved, so that a slow spell of the machine hits all of them), and
 * the median of each is printed and returned.
 */
final class PassTimer {
    private PassTimer() {
    }

    static Map<String, Double> medians(Map<String, Runnable> passes, int repeats) {
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        passes.forEach((name, pass) -> {
            pass.run();
            seconds.put(name, new ArrayList<>());
        });
        for (int r = 0; r < repeats; r++) {
            passes.forEach((name, pass) -> {
                long t0 = System.nanoTime();
                pass.run();
                seconds.get(name).add((System.nanoTime() - t0) / 1e9);
            });
        }
        Map<String, Double> median = new LinkedHashMap<>();
        seconds.forEach((name, s) -> {
            median.put(name, median(s));
            Console.out("%-12s pass: median %.3f s of %s", name, median.get(name), s);
        });
        return median;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
