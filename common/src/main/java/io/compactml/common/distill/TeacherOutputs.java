package io.compactml.common.distill;

import io.compactml.common.onnx.OnnxExport;
import io.compactml.common.onnx.OnnxSession;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a student learns from: the teacher's output layer before its activation, i.e. the logits of a softmax
 * classifier (distillation softens them with a temperature, which probabilities no longer allow exactly) and
 * the outputs themselves of an identity (regression) output layer.
 */
public final class TeacherOutputs {
    /**
     * Examples run through a teacher in this JVM (executors included when Spark runs in-process): lets a test
     * show that training a student never runs the teacher.
     */
    public static final AtomicLong INFERENCES = new AtomicLong();

    private TeacherOutputs() {}

    /** The pre-activation of {@code net}'s output layer for {@code features} (one row per example). */
    public static INDArray of(MultiLayerNetwork net, INDArray features) {
        int last = net.getnLayers() - 1;
        INDArray in = features;
        if (last > 0) {
            List<INDArray> acts = net.feedForwardToLayer(last - 1, features, false);
            in = acts.get(acts.size() - 1);
        }
        InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
        if (pre != null) {
            in = pre.preProcess(in, (int) in.size(0), LayerWorkspaceMgr.noWorkspaces());
        }
        INDArray w = net.getLayer(last).getParam("W");
        INDArray b = net.getLayer(last).getParam("b");
        INDArray z = in.mmul(w);
        if (b != null) {
            z.addiRowVector(b);
        }
        INFERENCES.addAndGet(features.size(0));
        return z;
    }

    /**
     * The same in ONNX Runtime: {@code logits} runs the teacher's {@link OnnxExport#logits} graph; [rows, outputs]
     * for {@code features} [rows, inputs], equal to {@link #of(MultiLayerNetwork, INDArray)} within float rounding.
     */
    public static float[][] of(OnnxSession logits, INDArray features) {
        float[][] z = logits.run(OnnxSession.rowMajor(features), (int) features.rows());
        INFERENCES.addAndGet(features.size(0));
        return z;
    }
}
