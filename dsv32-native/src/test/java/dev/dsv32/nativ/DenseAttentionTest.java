package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * DebugFlag.DENSE_ATTENTION: every query attends to every cached key. The tiny model's index_topk is 32: up to 32
 * keys DSA selects them all, so dense and sparse logits are identical; past it they differ.
 */
class DenseAttentionTest {
    private static final int TOPK = 32;

    private static NativeModel open(boolean dense, Numerics numerics) {
        NativeOptions o = NativeOptions.defaults().withNumerics(numerics).withMaxSeqLen(64);
        if (dense) o = o.withDebug(NativeOptions.DebugFlag.DENSE_ATTENTION);
        return NativeModel.open(NativeModelTest.TINY, o);
    }

    private static int[] tokens(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = (i * 37 + 11) % 512;
        return t;
    }

    /** Logits of every decode step after a prefill of prefill tokens, one row per token fed one at a time. */
    private static float[][] run(boolean dense, Numerics numerics, int prefill, int total) {
        int[] t = tokens(total);
        float[][] rows = new float[total - prefill + 1][];
        try (NativeModel m = open(dense, numerics); NativeSequence s = m.openSequence()) {
            float[] all = s.forward(Arrays.copyOf(t, prefill));
            rows[0] = Arrays.copyOfRange(all, all.length - 512, all.length);
            for (int i = prefill; i < total; i++) rows[i - prefill + 1] = s.forward(t[i]);
        }
        return rows;
    }

    @Test
    void denseEqualsSparseWhileTheContextIsAtMostTopK() {
        for (Numerics n : new Numerics[] {Numerics.F32, Numerics.FP8}) {
            float[][] sparse = run(false, n, 12, TOPK), dense = run(true, n, 12, TOPK);
            for (int i = 0; i < sparse.length; i++) assertArrayEquals(sparse[i], dense[i], 0f, n + " step " + i);
        }
    }

    @Test
    void denseDiffersFromSparsePastTopK() {
        float[][] sparse = run(false, Numerics.F32, 40, 60), dense = run(true, Numerics.F32, 40, 60);
        // 40 keys > 32: the indexer drops 8 of them, dense attention keeps them
        double maxDiff = 0;
        for (int i = 0; i < sparse.length; i++)
            for (int j = 0; j < 512; j++) maxDiff = Math.max(maxDiff, Math.abs(sparse[i][j] - dense[i][j]));
        assertTrue(maxDiff > 1e-4, "dense attention changed nothing past top-k: max |diff| " + maxDiff);
    }

    @Test
    void unknownFlagBitsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new NativeOptions(Numerics.F32, 1, 64, 1, 1, 32));
        assertEquals(16, NativeOptions.DebugFlag.DENSE_ATTENTION.bit());
    }
}
