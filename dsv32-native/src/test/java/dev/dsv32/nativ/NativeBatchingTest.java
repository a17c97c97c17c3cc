package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batched forward steps and the paged KV cache through the Java API, on the golden tiny checkpoint in f32 numerics:
 * a batched step equals each entry run alone, forwardLast equals the last rows of forward, capacity errors change
 * nothing, truncate and fork behave like fresh sequences. "Equal" is max|d| / max|ref| <= 1e-5.
 */
class NativeBatchingTest {
    static final Path TINY = GoldenCases.ROOT.resolve("tiny");
    static final int V = 512;

    static NativeModel tiny(int blockSize, int poolTokens, int maxSequences) {
        return NativeModel.open(TINY, NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(256)
                .withMaxSequences(maxSequences).withKvBlockSize(blockSize).withKvPoolTokens(poolTokens));
    }

    static int[] ids(int n, long seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            t[i] = (int) Long.remainderUnsigned(seed >>> 20, V);
        }
        return t;
    }

    static int[] range(int[] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }

    /** Asserts rows [row, row + rows) of got equal rows [refRow, refRow + rows) of ref within 1e-5 of max|ref|. */
    static void assertRows(String what, float[] got, int row, float[] ref, int refRow, int rows) {
        double d = 0, r = 1e-30;
        for (int i = 0; i < rows * V; i++) {
            d = Math.max(d, Math.abs(got[row * V + i] - ref[refRow * V + i]));
            r = Math.max(r, Math.abs(ref[refRow * V + i]));
        }
        assertTrue(d / r <= 1e-5, what + ": max|d|/max|ref| = " + d / r);
    }

    @Test
    void aMixedBatchEqualsEachEntryRunAlone() {
        int[] ta = ids(60, 1), tb = ids(60, 2), tc = ids(60, 3);
        try (NativeModel m = tiny(16, 0, 4); NativeModel r = tiny(16, 0, 4)) {
            NativeSequence a = m.openSequence(), b = m.openSequence(), c = m.openSequence();
            NativeSequence ra = r.openSequence(), rb = r.openSequence(), rc = r.openSequence();
            float[] got = m.forward(List.of(BatchEntry.of(a, range(ta, 0, 10)), BatchEntry.of(b, range(tb, 0, 40)),
                    BatchEntry.of(c, range(tc, 0, 33))));
            assertRows("prefill a", got, 0, ra.forward(range(ta, 0, 10)), 0, 10);
            assertRows("prefill b", got, 10, rb.forward(range(tb, 0, 40)), 0, 40);
            assertRows("prefill c", got, 50, rc.forward(range(tc, 0, 33)), 0, 33);
            // A prefill chunk of a (start 10) with one decode token each of b and c, in one step.
            got = m.forward(List.of(BatchEntry.of(b, tb[40]), BatchEntry.of(a, range(ta, 10, 35)), BatchEntry.of(c, tc[33])));
            assertEquals(27 * V, got.length);
            assertRows("mixed: decode b", got, 0, rb.forward(tb[40]), 0, 1);
            assertRows("mixed: chunk a", got, 1, ra.forward(range(ta, 10, 35)), 0, 25);
            assertRows("mixed: decode c", got, 26, rc.forward(tc[33]), 0, 1);
            assertEquals(List.of(35, 41, 34), List.of(a.position(), b.position(), c.position()));
            for (int k = 0; k < 3; k++) {
                got = m.forward(List.of(BatchEntry.of(a, ta[35 + k]), BatchEntry.of(b, tb[41 + k]), BatchEntry.of(c, tc[34 + k])));
                assertRows("decode a", got, 0, ra.forward(ta[35 + k]), 0, 1);
                assertRows("decode b", got, 1, rb.forward(tb[41 + k]), 0, 1);
                assertRows("decode c", got, 2, rc.forward(tc[34 + k]), 0, 1);
            }
        }
    }

    @Test
    void forwardLastEqualsTheLastRowsOfForward() {
        int[] ta = ids(60, 4), tb = ids(60, 5);
        try (NativeModel m = tiny(0, 0, 4); NativeModel r = tiny(0, 0, 4)) {
            NativeSequence a = m.openSequence(), b = m.openSequence(), ra = r.openSequence(), rb = r.openSequence();
            float[] last = m.forwardLast(List.of(BatchEntry.of(a, range(ta, 0, 37)), BatchEntry.of(b, range(tb, 0, 3))));
            float[] all = r.forward(List.of(BatchEntry.of(ra, range(ta, 0, 37)), BatchEntry.of(rb, range(tb, 0, 3))));
            assertEquals(2 * V, last.length);
            assertRows("prefill 37: last row", last, 0, all, 36, 1);
            assertRows("prefill 3: last row", last, 1, all, 39, 1);
            assertEquals(37, a.position());
            assertEquals(3, b.position());
            // Into a direct buffer from a position, and into a heap buffer with an array offset.
            FloatBuffer direct = ByteBuffer.allocateDirect((2 * V + 5) * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            direct.position(5);
            m.forwardLast(List.of(BatchEntry.of(b, range(tb, 3, 9)), BatchEntry.of(a, ta[37])), direct);
            assertEquals(5 + 2 * V, direct.position());
            all = r.forward(List.of(BatchEntry.of(rb, range(tb, 3, 9)), BatchEntry.of(ra, ta[37])));
            float[] got = new float[2 * V];
            direct.position(5);
            direct.get(got);
            assertRows("direct buffer: chunk's last row", got, 0, all, 5, 1);
            assertRows("direct buffer: decode row", got, 1, all, 6, 1);
            float[] backing = new float[3 + 2 * V + 4];
            FloatBuffer heap = FloatBuffer.wrap(backing, 1, 2 * V + 6).slice(); // array offset 1
            heap.position(2);
            m.forwardLast(List.of(BatchEntry.of(a, ta[38]), BatchEntry.of(b, tb[9])), heap);
            assertEquals(2 + 2 * V, heap.position());
            all = r.forward(List.of(BatchEntry.of(ra, ta[38]), BatchEntry.of(rb, tb[9])));
            assertEquals(0f, backing[2]);
            assertRows("heap buffer", Arrays.copyOfRange(backing, 3, 3 + 2 * V), 0, all, 0, 2);
            assertEquals(0f, backing[3 + 2 * V]);
            // Too small a buffer is rejected before the engine runs: nothing advances.
            FloatBuffer small = FloatBuffer.allocate(V);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forwardLast(List.of(BatchEntry.of(a, 1), BatchEntry.of(b, 2)), small));
            assertTrue(e.getMessage().contains("needs " + 2 * V), e.getMessage());
            assertEquals(39, a.position());
        }
    }

    @Test
    void aCapacityErrorNamesTheSequenceAndCountsAndChangesNothing() {
        int[] ta = ids(60, 6), tb = ids(60, 7);
        try (NativeModel m = tiny(16, 64, 4); NativeModel r = tiny(16, 0, 4)) {
            CacheStats s = m.cacheStats();
            assertEquals(new CacheStats(16, 4, 4, 0, 0, 0, 3L * 16 * (128 + 64 + 128) * 4), s);
            NativeSequence a = m.openSequence(), b = m.openSequence(), ra = r.openSequence(), rb = r.openSequence();
            a.forward(range(ta, 0, 40)); // 3 blocks
            ra.forward(range(ta, 0, 40));
            s = m.cacheStats();
            assertEquals(1, s.freeBlocks());
            assertEquals(3, s.usedBlocks());
            assertEquals(40, s.usedTokens());
            NativeException e = assertThrows(NativeException.class,
                    () -> m.forward(List.of(BatchEntry.of(a, ta[40]), BatchEntry.of(b, range(tb, 0, 30)))));
            assertEquals(NativeException.Status.CAPACITY, e.status());
            assertTrue(e.getMessage().contains("sequence " + b.id()) && e.getMessage().contains("needs 2")
                    && e.getMessage().contains("only 1 of"), e.getMessage());
            assertThrows(NativeException.class, () -> m.forwardLast(List.of(BatchEntry.of(b, range(tb, 0, 30)))));
            assertEquals(40, a.position());
            assertEquals(0, b.position());
            assertEquals(s, m.cacheStats());
            // A smaller step fits and is right.
            float[] got = m.forward(List.of(BatchEntry.of(a, ta[40]), BatchEntry.of(b, range(tb, 0, 10))));
            assertRows("a after the error", got, 0, ra.forward(ta[40]), 0, 1);
            assertRows("b after the error", got, 1, rb.forward(range(tb, 0, 10)), 0, 10);
            assertEquals(0, m.cacheStats().freeBlocks());
            // Blocks return on close.
            a.close();
            s = m.cacheStats();
            assertEquals(3, s.freeBlocks());
            assertEquals(10, s.usedTokens());
            assertEquals(1, s.openSequences());
            assertEquals(4, s.allocatedBlocks());
            try (NativeSequence c = m.openSequence(); NativeSequence rc = r.openSequence()) {
                assertRows("reused blocks", c.forward(range(ta, 0, 48)), 0, rc.forward(range(ta, 0, 48)), 0, 48);
                assertEquals(0, m.cacheStats().freeBlocks());
            }
            assertEquals(3, m.cacheStats().freeBlocks());
        }
    }

    @Test
    void truncateThenForwardEqualsAFreshSequence() {
        int[] t = ids(60, 8), u = ids(40, 9);
        try (NativeModel m = tiny(16, 0, 4); NativeModel r = tiny(16, 0, 4);
             NativeSequence s = m.openSequence(); NativeSequence f = r.openSequence()) {
            s.forward(range(t, 0, 50));
            assertEquals(4, m.cacheStats().usedBlocks());
            assertThrows(IllegalArgumentException.class, () -> s.truncate(51));
            assertThrows(IllegalArgumentException.class, () -> s.truncate(-1));
            s.truncate(30);
            assertEquals(30, s.position());
            assertEquals(2, m.cacheStats().usedBlocks());
            assertEquals(30, m.cacheStats().usedTokens());
            f.forward(range(t, 0, 30));
            assertRows("after truncate: 20 new tokens", s.forward(range(u, 0, 20)), 0, f.forward(range(u, 0, 20)), 0, 20);
            for (int k = 0; k < 3; k++) assertRows("decode", s.forward(u[20 + k]), 0, f.forward(u[20 + k]), 0, 1);
            s.truncate(0);
            assertEquals(0, m.cacheStats().usedBlocks());
            try (NativeSequence f2 = r.openSequence()) {
                assertRows("after truncate to 0", s.forward(range(u, 0, 33)), 0, f2.forward(range(u, 0, 33)), 0, 33);
            }
            s.close();
            assertThrows(IllegalStateException.class, () -> s.truncate(0));
        }
    }

    @Test
    void forkThenDivergeEqualsFreshSequences() {
        int[] t = ids(37, 10), x = ids(10, 11), y = ids(10, 12);
        try (NativeModel m = tiny(16, 0, 4); NativeModel r = tiny(16, 0, 4)) {
            NativeSequence p = m.openSequence();
            p.forward(t);
            CacheStats before = m.cacheStats();
            NativeSequence f = p.fork();
            assertNotEquals(p.id(), f.id());
            assertEquals(37, f.position());
            assertEquals(before.freeBlocks(), m.cacheStats().freeBlocks(), "a fork takes no block");
            assertEquals(74, m.cacheStats().usedTokens());
            NativeSequence rp = r.openSequence(), rf = r.openSequence();
            r.forward(List.of(BatchEntry.of(rp, t), BatchEntry.of(rf, t)));
            float[] got = m.forward(List.of(BatchEntry.of(p, range(x, 0, 5)), BatchEntry.of(f, range(y, 0, 4))));
            assertRows("parent diverges", got, 0, rp.forward(range(x, 0, 5)), 0, 5);
            assertRows("fork diverges", got, 5, rf.forward(range(y, 0, 4)), 0, 4);
            assertEquals(2 + 1 + 1, m.cacheStats().usedBlocks(), "2 full blocks shared, the partly filled one copied once");
            for (int k = 0; k < 3; k++) {
                got = m.forward(List.of(BatchEntry.of(f, y[4 + k]), BatchEntry.of(p, x[5 + k])));
                assertRows("decode fork", got, 0, rf.forward(y[4 + k]), 0, 1);
                assertRows("decode parent", got, 1, rp.forward(x[5 + k]), 0, 1);
            }
            p.close();
            assertRows("fork after the parent closed", f.forward(y[7]), 0, rf.forward(y[7]), 0, 1);
            NativeSequence g = f.fork(), h = g.fork(), i = g.fork();
            NativeException e = assertThrows(NativeException.class, g::fork);
            assertEquals(NativeException.Status.CAPACITY, e.status());
            assertEquals(4, m.cacheStats().openSequences());
            assertRows("fork of a fork", h.forward(x[9]), 0, rf.forward(x[9]), 0, 1);
            for (NativeSequence q : List.of(f, g, h, i)) q.close();
            assertEquals(m.cacheStats().totalBlocks(), m.cacheStats().freeBlocks());
            NativeSequence k = m.openSequence();
            NativeSequence forkOfK = k.fork();
            m.close();
            assertTrue(forkOfK.isClosed(), "forks close with the model");
            assertThrows(IllegalStateException.class, k::fork);
        }
    }

    @Test
    void kvOptionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withKvBlockSize(-1));
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withKvBlockSize(65537));
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withKvPoolTokens(-1));
        NativeOptions o = new NativeOptions(Numerics.F32, 0, 100, 3, 0, 0);
        assertEquals(0, o.kvBlockSize());
        assertEquals(0, o.kvPoolTokens());
        try (NativeModel m = NativeModel.open(TINY, o)) {
            CacheStats s = m.cacheStats();
            assertEquals(64, s.blockSize(), "default block size");
            assertEquals(3 * 2, s.totalBlocks(), "default pool: max sequences x max length, in blocks");
            assertEquals(0, s.allocatedBlocks(), "nothing allocated up front");
        }
        try (NativeModel m = NativeModel.open(TINY, o.withKvBlockSize(7).withKvPoolTokens(100))) {
            assertEquals(new CacheStats(7, 15, 15, 0, 0, 0, 3L * 7 * (128 + 64 + 128) * 4), m.cacheStats());
        }
        NativeModel closed = tiny(0, 0, 1);
        closed.close();
        assertThrows(IllegalStateException.class, closed::cacheStats);
        assertFalse(closed.toString().isEmpty());
    }

    @Test
    void batchingDoesNotChangeTheGoldenBatchCase() throws Exception {
        // The golden batch case run as one step per position (both rows together) matches the reference too.
        GoldenCases.Case c = GoldenCases.load(TINY, 1).stream().filter(x -> x.tokens().length > 1).findFirst().orElseThrow();
        try (NativeModel m = NativeModel.open(c.dir(), NativeOptions.defaults().withNumerics(Numerics.F32).withKvBlockSize(16))) {
            float[] got = NativeModelGoldenTest.run(m, c.tokens(), c.decodeFrom(), 0);
            float[] ref = Npy.read(c.f32()).data();
            LogitsComparison cmp = LogitsComparison.of(ref, got, V);
            assertTrue(cmp.passes(), c + ": " + cmp);
            assertArrayEquals(c.shape(), Npy.read(c.f32()).shape());
        }
    }
}
