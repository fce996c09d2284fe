package io.compactml.common.prune;

import io.compactml.common.config.CompactConfig;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * What {@code importance} computes ({@code importance.*}).
 *
 * @param criteria           criteria scored and stored
 * @param batchSize          examples per gradient sample (one backward pass each) and per minibatch of the
 *                           entropy pass
 * @param stabilitySparsity  sparsity at which the two halves' pruned sets are compared
 */
public record ImportanceSettings(List<Criterion> criteria, int batchSize, double stabilitySparsity) {

    public static ImportanceSettings from(CompactConfig c) {
        return new ImportanceSettings(
                c.getEnumList("importance.criteria", Criterion.class),
                c.getInt("importance.batch-size"),
                c.getDouble("importance.stability-sparsity"));
    }

    /** These settings with {@code more} criteria scored too (in declaration order, each once). */
    public ImportanceSettings withCriteria(Collection<Criterion> more) {
        TreeSet<Criterion> all = new TreeSet<>(criteria);
        all.addAll(more);
        return new ImportanceSettings(List.copyOf(all), batchSize, stabilitySparsity);
    }

    /** Whether any criterion needs the gradient pass over data (forward and backward, with labels). */
    public boolean needsGradients() {
        return criteria.stream().anyMatch(Criterion::needsGradients);
    }

    /** Whether the activation entropy pass over data (forward only, labels not read) is asked for. */
    public boolean needsEntropy() {
        return criteria.contains(Criterion.ENTROPY);
    }
}
