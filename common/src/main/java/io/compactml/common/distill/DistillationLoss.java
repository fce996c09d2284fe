package io.compactml.common.distill;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Knowledge-distillation loss for a DL4J output layer. The labels of a minibatch carry both targets side by
 * side: {@code [y | t]}, the hard targets and the teacher's outputs, each as wide as the layer.
 *
 * <ul>
 *   <li>Classification (softmax output; y one-hot, t the teacher's logits; s the student's logits, i.e. the
 *   layer's pre-activation): {@code alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) *
 *   CE(y, softmax(s))} (Hinton et al. 2015; the T^2 keeps the soft term's gradient scale independent of T).
 *   Gradient with respect to s: {@code alpha * T * (softmax(s/T) - softmax(t/T)) + (1 - alpha) *
 *   (softmax(s) - y)}. An example without a label (an all-zero row of y, as minibatches of unlabeled data carry)
 *   has no hard term: {@code alpha * T^2 * KL} alone.</li>
 *   <li>Regression (identity output; y and t targets): {@code alpha * MSE(s, t) + (1 - alpha) * MSE(s, y)}, each
 *   MSE the mean over the outputs as DL4J's {@code LossMSE}; gradient {@code 2 / n * (alpha * (s - t) +
 *   (1 - alpha) * (s - y))}.</li>
 * </ul>
 * Per-example values; {@link #computeScore} averages over the minibatch when asked, like DL4J's losses, and
 * the gradient is per example (DL4J's updater divides by the minibatch size). Computed in double with
 * log-sum-exp, whatever the network's data type.
 */
public final class DistillationLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    private double alpha;
    private double temperature;

    /** For JSON (DL4J stores the loss in the network configuration). */
    public DistillationLoss() {
        this(0.5, 1.0);
    }

    public DistillationLoss(double alpha, double temperature) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha " + alpha + " is not in [0, 1]");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature " + temperature + " is not a positive number");
        }
        this.alpha = alpha;
        this.temperature = temperature;
    }

    public double getAlpha() {
        return alpha;
    }

    public void setAlpha(double alpha) {
        this.alpha = alpha;
    }

    public double getTemperature() {
        return temperature;
    }

    public void setTemperature(double temperature) {
        this.temperature = temperature;
    }

    private static boolean classification(IActivation fn) {
        if (fn instanceof ActivationSoftmax) {
            return true;
        }
        if (fn instanceof ActivationIdentity) {
            return false;
        }
        throw new IllegalStateException("DistillationLoss needs a softmax (classification) or identity (regression)"
                + " output layer, not " + fn);
    }

    /** Per-example losses [n] and, when {@code gradient} is not null, dL/ds per example into it [n * width]. */
    private double[] compute(INDArray labels, INDArray preOutput, IActivation fn, INDArray mask, double[] gradient) {
        int n = (int) preOutput.size(0);
        int w = (int) preOutput.size(1);
        if (labels.size(0) != n || labels.size(1) != 2L * w) {
            throw new IllegalArgumentException("distillation labels must be [hard targets | teacher outputs], " + n
                    + " x " + 2 * w + " for an output layer of " + w + "; got " + labels.shapeInfoToString());
        }
        double[] s = preOutput.dup('c').data().asDouble();
        double[] yt = labels.dup('c').data().asDouble();
        double[] m = mask == null ? null : mask.dup('c').data().asDouble();
        boolean softmax = classification(fn);
        double[] loss = new double[n];
        double[] ps = new double[w];
        double[] psT = new double[w];
        double[] ptT = new double[w];
        for (int i = 0; i < n; i++) {
            double weight = m == null ? 1.0 : m[i];
            int row = i * w;
            int labelRow = i * 2 * w;
            double l;
            if (softmax) {
                double lseS = logSoftmax(s, row, w, 1.0, ps);
                double lseST = logSoftmax(s, row, w, temperature, psT);
                double lseTT = logSoftmax(yt, labelRow + w, w, temperature, ptT);
                double kl = 0;
                double ce = 0;
                // an example without a label (an all-zero hard target row) has no hard term
                double hardWeight = 0;
                for (int j = 0; j < w; j++) {
                    hardWeight += yt[labelRow + j];
                }
                double hard = hardWeight > 0 ? 1 - alpha : 0;
                for (int j = 0; j < w; j++) {
                    double logPsT = s[row + j] / temperature - lseST;
                    double logPtT = yt[labelRow + w + j] / temperature - lseTT;
                    kl += ptT[j] * (logPtT - logPsT);
                    ce -= yt[labelRow + j] * (s[row + j] - lseS);
                }
                l = alpha * temperature * temperature * kl + hard * ce;
                if (gradient != null) {
                    for (int j = 0; j < w; j++) {
                        gradient[row + j] =
                                weight * (alpha * temperature * (psT[j] - ptT[j]) + hard * (ps[j] - yt[labelRow + j]));
                    }
                }
            } else {
                double soft = 0;
                double hard = 0;
                for (int j = 0; j < w; j++) {
                    double dt = s[row + j] - yt[labelRow + w + j];
                    double dy = s[row + j] - yt[labelRow + j];
                    soft += dt * dt;
                    hard += dy * dy;
                    if (gradient != null) {
                        gradient[row + j] = weight * 2.0 / w * (alpha * dt + (1 - alpha) * dy);
                    }
                }
                l = (alpha * soft + (1 - alpha) * hard) / w;
            }
            loss[i] = weight * l;
        }
        return loss;
    }

    /**
     * Softmax of {@code x[from .. from + w) / t} into {@code p}; returns the log of its normaliser,
     * {@code log sum exp(x / t)}, computed stably.
     */
    private static double logSoftmax(double[] x, int from, int w, double t, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < w; j++) {
            max = Math.max(max, x[from + j] / t);
        }
        double sum = 0;
        for (int j = 0; j < w; j++) {
            p[j] = Math.exp(x[from + j] / t - max);
            sum += p[j];
        }
        for (int j = 0; j < w; j++) {
            p[j] /= sum;
        }
        return max + Math.log(sum);
    }

    @Override
    public double computeScore(
            INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean average) {
        double sum = 0;
        for (double l : compute(labels, preOutput, activationFn, mask, null)) {
            sum += l;
        }
        return average ? sum / preOutput.size(0) : sum;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        double[] loss = compute(labels, preOutput, activationFn, mask, null);
        return Nd4j.create(loss, new long[] {loss.length, 1}, 'c').castTo(preOutput.dataType());
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        double[] g = new double[(int) preOutput.length()];
        compute(labels, preOutput, activationFn, mask, g);
        return Nd4j.create(g, preOutput.shape(), 'c').castTo(preOutput.dataType());
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(
            INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean average) {
        double[] g = new double[(int) preOutput.length()];
        double sum = 0;
        for (double l : compute(labels, preOutput, activationFn, mask, g)) {
            sum += l;
        }
        return Pair.of(
                average ? sum / preOutput.size(0) : sum,
                Nd4j.create(g, preOutput.shape(), 'c').castTo(preOutput.dataType()));
    }

    @Override
    public String name() {
        return "distillation(alpha=" + alpha + ", T=" + temperature + ")";
    }

    @Override
    public String toString() {
        return name();
    }
}
