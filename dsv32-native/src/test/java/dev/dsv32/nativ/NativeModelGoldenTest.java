package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden cases through the Java API, in f32 numerics, against the f32 references: top-1 agreement >= 99% and
 * mean KL <= 1e-3 on every case.
 */
class NativeModelGoldenTest {
    static Stream<GoldenCases.Case> cases() {
        List<GoldenCases.Case> all = GoldenCases.all();
        assertFalse(all.isEmpty(), "no golden cases under " + GoldenCases.ROOT.toAbsolutePath());
        return all.stream();
    }

    static NativeModel open(GoldenCases.Case c, NativeOptions base) {
        return NativeModel.open(c.dir(), base.withNumerics(Numerics.F32).withMp(c.mp())
                .withMaxSequences(Math.max(8, c.tokens().length)));
    }

    /**
     * Logits [B][T][vocab], flattened: prefill of the first decodeFrom tokens (all when decodeFrom < 0) in chunks of
     * {@code chunk} tokens (0: one chunk), then one token per step; all rows of the batch in each step.
     */
    static float[] run(NativeModel model, int[][] tokens, int decodeFrom, int chunk) {
        int b = tokens.length, t = tokens[0].length, vocab = model.info().vocabSize();
        int prefill = decodeFrom < 0 ? t : decodeFrom;
        float[] out = new float[b * t * vocab];
        List<NativeSequence> seqs = new ArrayList<>();
        try {
            for (int i = 0; i < b; i++) seqs.add(model.openSequence());
            int pos = 0;
            while (pos < t) {
                int n = pos < prefill ? (chunk > 0 ? Math.min(chunk, prefill - pos) : prefill - pos) : 1;
                List<BatchEntry> batch = new ArrayList<>();
                for (int i = 0; i < b; i++) batch.add(BatchEntry.of(seqs.get(i), Arrays.copyOfRange(tokens[i], pos, pos + n)));
                float[] step = model.forward(batch);
                for (int i = 0; i < b; i++) {
                    System.arraycopy(step, i * n * vocab, out, (i * t + pos) * vocab, n * vocab);
                    assertEquals(pos + n, seqs.get(i).position());
                }
                pos += n;
            }
        } finally {
            for (NativeSequence s : seqs) s.close();
        }
        return out;
    }

    static LogitsComparison compare(GoldenCases.Case c, float[] actual, int vocab) throws IOException {
        Npy ref = Npy.read(c.f32());
        assertArrayEquals(c.shape(), ref.shape(), c + ": reference shape");
        return LogitsComparison.of(ref.data(), actual, vocab);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheF32Reference(GoldenCases.Case c) throws IOException {
        try (NativeModel model = open(c, NativeOptions.defaults())) {
            ModelInfo info = model.info();
            assertEquals(c.shape()[c.shape().length - 1], info.vocabSize());
            assertEquals(Numerics.F32, info.numerics());
            LogitsComparison r = compare(c, run(model, c.tokens(), c.decodeFrom(), 0), info.vocabSize());
            assertTrue(r.passes(), c + ": " + r);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void chunkedPrefillMatchesToo(GoldenCases.Case c) throws IOException {
        if (c.decodeFrom() >= 0 && c.decodeFrom() < 2) return; // nothing to chunk
        try (NativeModel model = open(c, NativeOptions.defaults())) {
            LogitsComparison r = compare(c, run(model, c.tokens(), c.decodeFrom(), 7), model.info().vocabSize());
            assertTrue(r.passes(), c + " in chunks of 7: " + r);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void smallCacheBlocksMatchToo(GoldenCases.Case c) throws IOException {
        // 16-position KV cache blocks: sequences span many blocks; chunks of 7 cross block edges.
        try (NativeModel model = open(c, NativeOptions.defaults().withKvBlockSize(16))) {
            assertEquals(16, model.cacheStats().blockSize());
            LogitsComparison r = compare(c, run(model, c.tokens(), c.decodeFrom(), 7), model.info().vocabSize());
            assertTrue(r.passes(), c + " with 16-position blocks, chunks of 7: " + r);
        }
    }

    @Test
    void directBufferGetsTheSameLogitsAsAnArray() {
        GoldenCases.Case c = GoldenCases.load(GoldenCases.ROOT.resolve("tiny"), 1).get(0);
        int[] ids = Arrays.copyOf(c.tokens()[0], 12);
        try (NativeModel model = open(c, NativeOptions.defaults());
             NativeSequence a = model.openSequence();
             NativeSequence b = model.openSequence()) {
            int vocab = model.info().vocabSize();
            float[] viaArray = a.forward(ids);
            FloatBuffer buf = ByteBuffer.allocateDirect((ids.length * vocab + 3) * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            buf.position(3);
            model.forward(List.of(BatchEntry.of(b, ids)), buf);
            assertEquals(3 + ids.length * vocab, buf.position());
            float[] viaBuffer = new float[ids.length * vocab];
            buf.position(3);
            buf.get(viaBuffer);
            assertArrayEquals(viaArray, viaBuffer);
            // heap buffers work too
            FloatBuffer heap = FloatBuffer.allocate(vocab);
            model.forward(List.of(BatchEntry.of(a, c.tokens()[0][12])), heap);
            assertFalse(heap.hasRemaining());
        }
    }

    static Stream<GoldenCases.Case> mpCases() {
        return cases().filter(c -> c.mp() > 1);
    }

    /**
     * Model parallelism (architecture.md §9) changes only the order of some f32 sums (the ranks' partial outputs of
     * wo, w2 and the MoE are added): the logits at mp=2 equal those at mp=1 within 1e-5 of the largest logit.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("mpCases")
    void modelParallelLogitsEqualSingleRankLogits(GoldenCases.Case c) {
        float[] one;
        float[] many;
        int vocab;
        try (NativeModel model = NativeModel.open(c.dir(), NativeOptions.defaults().withNumerics(Numerics.F32)
                .withMaxSequences(Math.max(8, c.tokens().length)))) {
            assertEquals(1, model.info().mp());
            one = run(model, c.tokens(), c.decodeFrom(), 0);
            vocab = model.info().vocabSize();
        }
        try (NativeModel model = open(c, NativeOptions.defaults())) {
            assertEquals(c.mp(), model.info().mp());
            many = run(model, c.tokens(), c.decodeFrom(), 0);
        }
        double maxAbs = 0;
        double maxDiff = 0;
        for (int i = 0; i < one.length; i++) {
            assertTrue(Float.isFinite(many[i]), c + ": logit " + i + " is " + many[i]);
            maxAbs = Math.max(maxAbs, Math.abs(one[i]));
            maxDiff = Math.max(maxDiff, Math.abs(one[i] - many[i]));
        }
        assertTrue(maxDiff <= 1e-5 * maxAbs, c + ": mp=" + c.mp() + " vs mp=1: max |diff| " + maxDiff + ", max |logit| " + maxAbs);
        assertTrue(LogitsComparison.of(one, many, vocab).passes());
    }

    @Test
    void fp8NumericsRunAtMp2() {
        GoldenCases.Case c = mpCases().filter(x -> x.name().equals("prefill_64")).findFirst().orElseThrow();
        try (NativeModel model = NativeModel.open(c.dir(), NativeOptions.defaults().withNumerics(Numerics.FP8).withMp(2));
             NativeSequence s = model.openSequence()) {
            assertEquals(Numerics.FP8, model.info().numerics());
            float[] logits = s.forward(c.tokens()[0]);
            for (float v : logits) assertTrue(Float.isFinite(v));
            float[] next = s.forward(c.tokens()[0][0]); // the decode path too
            for (float v : next) assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void aBrokenModelDoesNotMatch() throws IOException {
        // The goldens see the routing bias: without it the references must not match (proves the check has teeth).
        GoldenCases.Case c = GoldenCases.load(GoldenCases.ROOT.resolve("tiny"), 1).stream()
                .filter(x -> x.name().equals("prefill_100")).findFirst().orElseThrow();
        try (NativeModel model = open(c, NativeOptions.defaults().withDebug(NativeOptions.DebugFlag.NO_GATE_BIAS))) {
            LogitsComparison r = compare(c, run(model, c.tokens(), c.decodeFrom(), 0), model.info().vocabSize());
            assertFalse(r.maxAbsDiff() < 1e-4, "NO_GATE_BIAS changed nothing: " + r);
        }
    }
}
