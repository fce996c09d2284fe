package io.compactml.common.prune;

import io.compactml.common.model.ParamFile;
import io.compactml.common.quant.QuantParams;
import io.compactml.common.quant.WeightQuantizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A pruned model stored sparse, so that it is as much smaller on disk as it is sparse: every weight tensor
 * ("W") as a bitmask of its nonzero positions (c-order) and the nonzero values only, in float32 or in int8
 * with symmetric per-output-channel scales ({@link WeightQuantizer}); other parameters (biases) dense float32.
 *
 * <p>File format ({@code model.sparse}): the {@link ParamFile} framing, deflated at the highest level, with magic
 * {@code CMLS}, version 1 and kinds 0 dense float32, 1 sparse float32, 2 sparse int8; for sparse kinds the
 * bitmask (one bit per weight, lowest bit first), then the values: float32 as four byte planes (all high bytes, then the next, ...; neighbouring weights share
 * sign and exponent bytes, which deflate then finds), int8 as the per-channel scales and one byte per value.
 * {@link #toNetwork()} restores a DL4J network with the zeros in place.
 */
public final class SparseModel {
    private static final int MAGIC = 0x434D4C53;
    private static final int VERSION = 1;
    private static final byte DENSE = 0;
    private static final byte SPARSE_FLOAT = 1;
    private static final byte SPARSE_INT8 = 2;

    private record Param(
            int layer, String name, byte kind, long[] shape, byte[] mask, float[] values, byte[] q, float[] scales) {}

    private final String configJson;
    private final List<Param> params;

    private SparseModel(String configJson, List<Param> params) {
        this.configJson = configJson;
        this.params = params;
    }

    /** Stores {@code net}'s weight tensors sparse, their values in int8 when {@code int8}. */
    public static SparseModel of(MultiLayerNetwork net, boolean int8) {
        List<Param> params = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            for (Map.Entry<String, INDArray> e : net.getLayer(i).paramTable().entrySet()) {
                INDArray p = e.getValue().castTo(DataType.FLOAT);
                float[] values = p.dup('c').data().asFloat();
                if (!e.getKey().equals("W")) {
                    params.add(new Param(i, e.getKey(), DENSE, p.shape(), null, values, null, null));
                    continue;
                }
                byte[] mask = new byte[(values.length + 7) / 8];
                int nonzero = 0;
                for (int k = 0; k < values.length; k++) {
                    if (values[k] != 0f) {
                        mask[k >>> 3] |= (byte) (1 << (k & 7));
                        nonzero++;
                    }
                }
                if (int8) {
                    List<QuantParams> qp = WeightQuantizer.params(p, true);
                    byte[] all = WeightQuantizer.quantize(p, qp);
                    byte[] q = new byte[nonzero];
                    for (int k = 0, j = 0; k < values.length; k++) {
                        if (values[k] != 0f) {
                            q[j++] = all[k];
                        }
                    }
                    params.add(new Param(i, "W", SPARSE_INT8, p.shape(), mask, null, q, WeightQuantizer.scales(qp)));
                } else {
                    float[] nz = new float[nonzero];
                    for (int k = 0, j = 0; k < values.length; k++) {
                        if (values[k] != 0f) {
                            nz[j++] = values[k];
                        }
                    }
                    params.add(new Param(i, "W", SPARSE_FLOAT, p.shape(), mask, nz, null, null));
                }
            }
        }
        return new SparseModel(net.getLayerWiseConfigurations().toJson(), params);
    }

    /** The network, pruned weights zero (int8 values dequantized). */
    public MultiLayerNetwork toNetwork() {
        MultiLayerNetwork net = ParamFile.emptyNetwork(configJson);
        for (Param p : params) {
            net.getLayer(p.layer()).setParam(p.name(), Nd4j.create(dense(p), p.shape(), 'c'));
        }
        return net;
    }

    private static float[] dense(Param p) {
        if (p.kind() == DENSE) {
            return p.values();
        }
        float[] out = new float[new ParamFile.Header(p.layer(), p.name(), p.kind(), p.shape()).length()];
        float[] dq = p.kind() == SPARSE_INT8 ? dequantizeNonzeros(p) : p.values();
        for (int k = 0, j = 0; k < out.length; k++) {
            if ((p.mask()[k >>> 3] & (1 << (k & 7))) != 0) {
                out[k] = dq[j++];
            }
        }
        return out;
    }

    private static float[] dequantizeNonzeros(Param p) {
        float[] out = new float[p.q().length];
        for (int k = 0, j = 0; j < out.length; k++) {
            if ((p.mask()[k >>> 3] & (1 << (k & 7))) != 0) {
                out[j] = p.q()[j] * p.scales()[WeightQuantizer.channel(p.shape(), p.scales().length, k)];
                j++;
            }
        }
        return out;
    }

    /** Nonzero weights stored, over all weight tensors. */
    public long nonzeroWeights() {
        long n = 0;
        for (Param p : params) {
            n += p.kind() == SPARSE_FLOAT ? p.values().length : p.kind() == SPARSE_INT8 ? p.q().length : 0;
        }
        return n;
    }

    public byte[] toBytes() {
        return ParamFile.write(
                MAGIC,
                VERSION,
                Deflater.BEST_COMPRESSION,
                configJson,
                params,
                p -> new ParamFile.Header(p.layer(), p.name(), p.kind(), p.shape()),
                (out, p) -> {
                    if (p.kind() != DENSE) {
                        ParamFile.writeBytes(out, p.mask());
                    }
                    if (p.kind() == SPARSE_INT8) {
                        ParamFile.writeFloats(out, p.scales());
                        ParamFile.writeBytes(out, p.q());
                    } else {
                        out.writeInt(p.values().length);
                        for (int shift = 24; shift >= 0; shift -= 8) {
                            for (float v : p.values()) {
                                out.writeByte(Float.floatToRawIntBits(v) >>> shift);
                            }
                        }
                    }
                },
                null);
    }

    /** Reads a {@code model.sparse}; {@code source} names it in errors. */
    public static SparseModel fromBytes(byte[] bytes, String source) {
        ParamFile.Contents<Param, Void> c = ParamFile.read(
                bytes,
                MAGIC,
                VERSION,
                (in, h) -> {
                    byte[] mask = h.kind() == DENSE ? null : ParamFile.readBytes(in);
                    if (h.kind() == SPARSE_INT8) {
                        float[] scales = ParamFile.readFloats(in);
                        return new Param(
                                h.layer(), h.name(), h.kind(), h.shape(), mask, null, ParamFile.readBytes(in), scales);
                    }
                    int count = in.readInt();
                    int[] bits = new int[count];
                    for (int shift = 24; shift >= 0; shift -= 8) {
                        for (int i = 0; i < count; i++) {
                            bits[i] |= in.readUnsignedByte() << shift;
                        }
                    }
                    float[] values = new float[count];
                    for (int i = 0; i < count; i++) {
                        values[i] = Float.intBitsToFloat(bits[i]);
                    }
                    return new Param(h.layer(), h.name(), h.kind(), h.shape(), mask, values, null, null);
                },
                null,
                "sparse model",
                source,
                "Re-run `compactml prune`.");
        return new SparseModel(c.configJson(), c.params());
    }
}
