package io.compactml.common.artifact;

import io.compactml.common.config.CompactConfig;
import org.apache.hadoop.fs.Path;

/**
 * What {@code publish} ships ({@code publish.*}) and what {@code verify} checks ({@code verify.*}).
 *
 * @param version       the artifact version; empty means the run id
 * @param kind          which model of the run {@code publish} ships
 * @param layout        the artifact only, or also a Triton model repository
 * @param tritonRoot    the Triton model repository; empty means {@code <artifacts.root>/triton}
 * @param verifyModel   the model name {@code verify} checks; empty means {@code model.name}
 * @param verifyVersion the version {@code verify} checks; empty means the one {@code LATEST} names
 * @param tolerance     points of accuracy (or MSE) a quick evaluation on fewer examples may differ
 */
public record PublishSettings(
        String version,
        ModelKind kind,
        PublishLayout layout,
        String tritonRoot,
        String verifyModel,
        String verifyVersion,
        double tolerance) {

    public static PublishSettings from(CompactConfig c) {
        return new PublishSettings(
                c.getString("publish.version"),
                c.getEnum("publish.model", ModelKind.class),
                c.getEnum("publish.layout", PublishLayout.class),
                c.getString("publish.triton-root"),
                c.getString("verify.model"),
                c.getString("verify.version"),
                c.getDouble("verify.tolerance"));
    }

    /** The version to publish under: {@link #version}, else {@code runId}. */
    public String versionOr(String runId) {
        return version.isEmpty() ? runId : version;
    }

    /** The Triton model repository: {@link #tritonRoot}, else {@code <artifacts.root>/triton}. */
    public String tritonRoot(CompactConfig c) {
        return tritonRoot.isEmpty() ? new Path(c.getString("artifacts.root"), "triton").toString() : tritonRoot;
    }
}
