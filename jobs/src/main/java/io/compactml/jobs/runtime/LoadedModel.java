package io.compactml.jobs.runtime;

import io.compactml.common.config.ConfigKeys;
import io.compactml.common.data.DatasetSpec;
import io.compactml.common.model.ClassNames;
import io.compactml.common.model.FeatureScaling;
import io.compactml.common.model.ModelIO;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A model a job works on, read once: its name (what the models made from it are named after: {@code <name>-int8},
 * ...), where it came from, its zip bytes (what executors get in a broadcast), the parsed network and the zip's
 * sha256 (the key of every table row about it).
 */
public record LoadedModel(String name, String uri, byte[] zip, MultiLayerNetwork net, String sha256) {

    /** Parses {@code zip}; a corrupt zip fails with a message naming {@code uri}. */
    public static LoadedModel of(String name, String uri, byte[] zip) {
        return new LoadedModel(name, uri, zip, ModelIO.fromBytes(zip, uri), ModelIO.sha256(zip));
    }

    /**
     * The job's model, named {@code model.name}: {@code model.path} (a DL4J zip, or an {@code .onnx} file read
     * into a DL4J network), else the one trained under the run id.
     */
    public static LoadedModel read(JobContext ctx) {
        String uri = ctx.modelUri();
        LoadedModel m = of(ctx.locations().modelName(), uri, ModelFiles.readModel(uri, ctx.hadoop()));
        checkData(ctx, m.net(), m.name());
        return m;
    }

    /**
     * Checks every {@code data.<split>} against the scaling and the class names {@code net} stores
     * ({@link FeatureScaling#checkData}, {@link ClassNames#checkData}).
     */
    public static void checkData(JobContext ctx, MultiLayerNetwork net, String name) {
        for (String split : ConfigKeys.DATA_SPLITS) {
            DatasetSpec spec = DatasetSpec.from(ctx.config(), split);
            FeatureScaling.checkData(net, name, spec);
            ClassNames.checkData(net, name, spec);
        }
    }
}
