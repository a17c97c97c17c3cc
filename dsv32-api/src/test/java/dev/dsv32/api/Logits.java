package dev.dsv32.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Test helpers: capture rows of logits; compare them as the golden tests do (top-1 agreement, mean KL). */
final class Logits {
    private Logits() {}

    /** A listener that copies every row it sees. */
    static final class Capture implements LogitsListener {
        final List<float[]> rows = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onLogits(int step, float[] logits, int offset, int vocab) {
            float[] row = new float[vocab];
            System.arraycopy(logits, offset, row, 0, vocab);
            rows.add(row);
        }
    }

    static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    /** KL(softmax(ref) || softmax(got)) in nats. */
    static double kl(float[] ref, float[] got) {
        double[] p = logSoftmax(ref);
        double[] q = logSoftmax(got);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            double pi = Math.exp(p[i]);
            if (pi > 0) kl += pi * (p[i] - q[i]);
        }
        return Math.max(0, kl);
    }

    static double[] logSoftmax(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) max = Math.max(max, v);
        double sum = 0;
        for (float v : row) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        double[] out = new double[row.length];
        for (int i = 0; i < row.length; i++) out[i] = row[i] - lse;
        return out;
    }

    /** KL(p || softmax(got)) for a reference given as log-probabilities. */
    static double kl(double[] refLogp, float[] got) {
        double[] q = logSoftmax(got);
        double kl = 0;
        for (int i = 0; i < refLogp.length; i++) {
            double pi = Math.exp(refLogp[i]);
            if (pi > 0) kl += pi * (refLogp[i] - q[i]);
        }
        return Math.max(0, kl);
    }

    /** Top-1 agreement and mean KL of two row lists of the same length. */
    record Comparison(double top1, double meanKl, int rows) {
        boolean withinGoldenBounds() {
            return top1 >= 0.99 && meanKl <= 1e-3;
        }
    }

    static Comparison compare(List<float[]> ref, List<float[]> got) {
        if (ref.size() != got.size()) throw new AssertionError("rows: " + ref.size() + " vs " + got.size());
        int agree = 0;
        double kl = 0;
        for (int i = 0; i < ref.size(); i++) {
            if (argmax(ref.get(i)) == argmax(got.get(i))) agree++;
            kl += kl(ref.get(i), got.get(i));
        }
        int n = Math.max(1, ref.size());
        return new Comparison((double) agree / n, kl / n, ref.size());
    }
}
