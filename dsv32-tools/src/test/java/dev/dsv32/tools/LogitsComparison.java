package dev.dsv32.tools;

/** Top-1 agreement and mean KL(reference ‖ actual) of two row-major logits arrays with {@code vocab} columns. */
record LogitsComparison(double top1, double meanKl, double maxAbsDiff) {
    static LogitsComparison of(float[] reference, float[] actual, int vocab) {
        if (reference.length != actual.length) {
            throw new AssertionError("length " + actual.length + ", reference " + reference.length);
        }
        int rows = reference.length / vocab;
        int agree = 0;
        double kl = 0, maxAbs = 0;
        for (int r = 0; r < rows; r++) {
            int off = r * vocab;
            if (argmax(reference, off, vocab) == argmax(actual, off, vocab)) agree++;
            double[] p = logSoftmax(reference, off, vocab), q = logSoftmax(actual, off, vocab);
            double k = 0;
            for (int v = 0; v < vocab; v++) {
                k += Math.exp(p[v]) * (p[v] - q[v]);
                maxAbs = Math.max(maxAbs, Math.abs(reference[off + v] - actual[off + v]));
            }
            kl += k;
        }
        return new LogitsComparison((double) agree / rows, kl / rows, maxAbs);
    }

    boolean passes() {
        return top1 >= 0.99 && meanKl <= 1e-3 && !Double.isNaN(meanKl);
    }

    private static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }

    private static double[] logSoftmax(float[] a, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, a[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(a[off + i] - max);
        double lse = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = a[off + i] - lse;
        return out;
    }
}
