package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Sampler (dsv32_sample over JNI): the C++ test_sampling cases from Java, and greedy on the tiny golden model. */
class SamplerTest {
    static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[off + i] > a[off + best]) best = i;
        }
        return best;
    }

    static float[] randomRow(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    /** SplitMix64, written from its definition (sampling.h): the sampler must advance exactly one step per draw. */
    static long splitmix64(long[] s) {
        long z = (s[0] += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Test
    void greedyIsArgmaxAndDoesNotTouchTheGenerator() {
        Random r = new Random(1);
        Sampler s = new Sampler(SamplingOptions.greedy().toBuilder().seed(7).build());
        for (int it = 0; it < 50; it++) {
            float[] row = randomRow(r, 1000, 3.0);
            assertEquals(argmax(row, 0, row.length), s.sample(row));
        }
        assertEquals(7L, s.state());
        assertEquals(1, s.sample(new float[] {1, 3, Float.NEGATIVE_INFINITY, 3, 2}));
        assertEquals(2, s.sample(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, -5}));
    }

    @Test
    void offsetSelectsTheRow() {
        float[] rows = {9, 0, 0, /* row 1 */ 0, 0, 5, /* row 2 */ 0, 4, 0};
        Sampler s = SamplingOptions.greedy().newSampler();
        assertEquals(0, s.sample(rows, 0, 3));
        assertEquals(2, s.sample(rows, 3, 3));
        assertEquals(1, s.sample(rows, 6, 3));
    }

    @Test
    void vanishingTemperatureTopK1AndTinyTopPAreGreedy() {
        Random r = new Random(2);
        Sampler[] samplers = {
            SamplingOptions.builder().temperature(1e-6).topP(1.0).seed(1).build().newSampler(),
            SamplingOptions.builder().temperature(1e-300).topP(1.0).seed(2).build().newSampler(),
            SamplingOptions.builder().temperature(1.0).topP(1.0).topK(1).seed(3).build().newSampler(),
            SamplingOptions.builder().temperature(5.0).topP(1e-9).seed(4).build().newSampler(),
            SamplingOptions.builder().temperature(0.5).topK(1).seed(5).build().newSampler(),
        };
        for (int it = 0; it < 100; it++) {
            float[] row = randomRow(r, 2000, 1.0);
            int want = argmax(row, 0, row.length);
            for (Sampler s : samplers) assertEquals(want, s.sample(row), s.toString());
        }
    }

    /** The target distribution, independently: softmax(l / t), top-k by rank, nucleus, renormalised. */
    static double[] expected(float[] l, double t, double topP, int topK) {
        Integer[] order = IntStream.range(0, l.length).boxed().sorted(Comparator.comparingDouble((Integer i) -> -l[i])).toArray(Integer[]::new);
        int k = topK > 0 ? Math.min(topK, l.length) : l.length;
        double[] e = new double[l.length];
        double sum = 0;
        for (int j = 0; j < k; j++) sum += e[order[j]] = Math.exp(l[order[j]] / t);
        double cum = 0;
        int kept = k;
        for (int j = 0; j < k; j++) {
            cum += e[order[j]];
            if (cum >= topP * sum) {
                kept = j + 1;
                break;
            }
        }
        double mass = 0;
        for (int j = 0; j < kept; j++) mass += e[order[j]];
        double[] p = new double[l.length];
        for (int j = 0; j < kept; j++) p[order[j]] = e[order[j]] / mass;
        return p;
    }

    @Test
    void frequenciesMatchTheSoftmax() {
        float[] l = {2.0f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, 1.5f, 0.25f};
        // 99.9% quantiles of chi-square, df = 1..7
        double[] q999 = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};
        Object[][] cases = {{1.0, 1.0, 0}, {0.7, 1.0, 0}, {1.0, 1.0, 5}, {1.0, 0.8, 0}, {1.0, 0.95, 0}, {0.8, 0.9, 6}};
        long seed = 11;
        for (Object[] c : cases) {
            double t = (Double) c[0], topP = (Double) c[1];
            int topK = (Integer) c[2];
            Sampler s = new SamplingOptions(t, topP, topK, seed++).newSampler();
            int draws = 100_000;
            long[] count = new long[l.length];
            for (int i = 0; i < draws; i++) count[s.sample(l)]++;
            double[] p = expected(l, t, topP, topK);
            double chi2 = 0;
            int df = -1;
            for (int i = 0; i < l.length; i++) {
                if (p[i] == 0) {
                    assertEquals(0, count[i], "token " + i + " has probability 0");
                    continue;
                }
                double ex = p[i] * draws;
                chi2 += (count[i] - ex) * (count[i] - ex) / ex;
                df++;
            }
            assertTrue(chi2 < q999[df], Arrays.toString(c) + ": chi2 " + chi2 + " with " + df + " df");
        }
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        float[] row = randomRow(new Random(4), 300, 1.0);
        SamplingOptions o = SamplingOptions.builder().seed(2024).build();
        Sampler a = o.newSampler(), b = o.newSampler(), c = o.toBuilder().seed(2025).build().newSampler();
        int[] ta = new int[200], tb = new int[200], tc = new int[200];
        for (int i = 0; i < 200; i++) {
            ta[i] = a.sample(row);
            tb[i] = b.sample(row);
            tc[i] = c.sample(row);
        }
        assertArrayEquals(ta, tb);
        assertFalse(Arrays.equals(ta, tc));
        long[] ref = {2024};
        for (int i = 0; i < 200; i++) splitmix64(ref);
        assertEquals(ref[0], a.state());
        // pinned draws (as in test_sampling.cpp): from seed 0, u = 0.883 then 0.431 over p = (0.5, 0.5)
        Sampler z = SamplingOptions.builder().topP(1.0).seed(0).build().newSampler();
        assertEquals(1, z.sample(new float[] {0, 0}));
        assertEquals(0, z.sample(new float[] {0, 0}));
    }

    @Test
    void badInputIsAnExceptionNeverACrash() {
        Sampler s = SamplingOptions.defaults().newSampler();
        assertThrows(NullPointerException.class, () -> s.sample(null, 0, 1));
        assertThrows(NullPointerException.class, () -> s.sample(null));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[0]));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3], 0, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> s.sample(new float[3], 1, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> s.sample(new float[3], -1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> s.sample(new float[3], Integer.MAX_VALUE, 2));
        for (Sampler t : new Sampler[] {s, SamplingOptions.greedy().newSampler()}) {
            NativeException e = assertThrows(NativeException.class, () -> t.sample(new float[] {0, Float.NaN, 1}));
            assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
            assertTrue(e.getMessage().contains("logit 1 is NaN"), e.getMessage());
            e = assertThrows(NativeException.class, () -> t.sample(new float[] {0, 1, Float.POSITIVE_INFINITY}));
            assertTrue(e.getMessage().contains("logit 2 is +inf"), e.getMessage());
            e = assertThrows(NativeException.class, () -> t.sample(new float[] {Float.NEGATIVE_INFINITY}));
            assertTrue(e.getMessage().contains("all 1 logits are -inf"), e.getMessage());
        }
        assertEquals(0L, s.state()); // failed samples do not advance the generator
        assertTrue(s.sample(new float[] {0, 1, 2}) >= 0);
    }

    @Test
    void greedyOnTheTinyModelIsTheArgmaxOfItsLogits() {
        try (NativeModel m = NativeModelTest.tiny(); NativeSequence seq = m.openSequence()) {
            int vocab = m.info().vocabSize();
            int[] prompt = {1, 17, 42, 99, 5, 300, 7, 8};
            float[] logits = seq.forward(prompt);
            Sampler greedy = SamplingOptions.greedy().newSampler();
            for (int r = 0; r < prompt.length; r++) {
                assertEquals(argmax(logits, r * vocab, vocab), greedy.sample(logits, r * vocab, vocab), "row " + r);
            }
            int next = greedy.sample(logits, (prompt.length - 1) * vocab, vocab);
            for (int step = 0; step < 4; step++) {
                float[] row = seq.forward(next);
                next = greedy.sample(row);
                assertEquals(argmax(row, 0, vocab), next, "decode step " + step);
            }
            // a seeded sampler over the same logits is reproducible too
            float[] last = seq.forward(next);
            SamplingOptions o = SamplingOptions.builder().seed(99).build();
            Sampler a = o.newSampler(), b = o.newSampler();
            for (int i = 0; i < 20; i++) {
                int t = a.sample(last);
                assertEquals(t, b.sample(last));
                assertTrue(t >= 0 && t < vocab);
            }
        }
    }
}
