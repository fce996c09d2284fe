package io.compactml.jobs.runtime;

import io.compactml.common.model.ModelIO;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A model a job works on, read once: where it came from, its zip bytes (what executors get in a broadcast),
 * the parsed network and the zip's sha256 (the key of every table row about it).
 */
public record LoadedModel(String uri, byte[] zip, MultiLayerNetwork net, String sha256) {

    /** Parses {@code zip}; a corrupt zip fails with a message naming {@code uri}. */
    public static LoadedModel of(String uri, byte[] zip) {
        return new LoadedModel(uri, zip, ModelIO.fromBytes(zip, uri), ModelIO.sha256(zip));
    }

    /** The job's model: {@code model.path}, else the one trained under the run id. */
    public static LoadedModel read(JobContext ctx) {
        String uri = ctx.modelUri();
        return of(uri, ModelIO.readBytes(uri, ctx.hadoop()));
    }
}
