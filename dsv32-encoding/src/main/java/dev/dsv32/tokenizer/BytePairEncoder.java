package dev.dsv32.tokenizer;

import java.util.Arrays;

/**
 * Byte-level BPE over a merge table (tokenizer.md §4): a piece's UTF-8 bytes start as single-byte tokens, then the
 * adjacent pair with the lowest merge rank is merged, leftmost first on ties, until no pair has a merge
 * ({@code ignore_merges = false}: a piece that is itself a vocab token is still built by merges, as in the reference).
 *
 * <p>Results are cached per piece text in a fixed-size, direct-mapped cache of immutable entries: lock-free and safe
 * to share between threads (a race only recomputes a piece).
 */
final class BytePairEncoder {
    private final int[] byteToId;
    // Merge table: open addressing on the pair (left id, right id).
    private final long[] pairKeys;
    private final int[] pairRanks;
    private final int[] pairMerged;
    private final int pairMask;

    private static final int CACHE_SIZE = 1 << 16;
    private static final int MAX_CACHED_LENGTH = 64;
    private final CacheEntry[] cache = new CacheEntry[CACHE_SIZE];

    private static final class CacheEntry {
        final String key;
        final int[] ids;

        CacheEntry(String key, int[] ids) {
            this.key = key;
            this.ids = ids;
        }
    }

    BytePairEncoder(int[] byteToId, int[] mergeLeft, int[] mergeRight, int[] mergeResult) {
        this.byteToId = byteToId.clone();
        int n = mergeLeft.length;
        int cap = Integer.highestOneBit(Math.max(16, n * 2)) << 1;
        pairKeys = new long[cap];
        Arrays.fill(pairKeys, -1L);
        pairRanks = new int[cap];
        pairMerged = new int[cap];
        pairMask = cap - 1;
        for (int rank = 0; rank < n; rank++) {
            long key = key(mergeLeft[rank], mergeRight[rank]);
            int slot = slot(key);
            while (pairKeys[slot] != -1L && pairKeys[slot] != key) slot = (slot + 1) & pairMask;
            if (pairKeys[slot] == key) continue; // a repeated merge keeps its first (lowest) rank
            pairKeys[slot] = key;
            pairRanks[slot] = rank;
            pairMerged[slot] = mergeResult[rank];
        }
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & pairMask;
    }

    /** Slot of the pair's merge, or -1. */
    private int find(int left, int right) {
        long key = key(left, right);
        int slot = slot(key);
        while (true) {
            long k = pairKeys[slot];
            if (k == key) return slot;
            if (k == -1L) return -1;
            slot = (slot + 1) & pairMask;
        }
    }

    /** Appends the ids of piece s[start, end) to out. */
    void encode(String s, int start, int end, IntList out) {
        int len = end - start;
        if (len <= MAX_CACHED_LENGTH) {
            int h = 0;
            for (int i = start; i < end; i++) h = 31 * h + s.charAt(i);
            int idx = (h ^ (h >>> 16)) & (CACHE_SIZE - 1);
            CacheEntry e = cache[idx];
            if (e != null && e.key.length() == len && e.key.regionMatches(0, s, start, len)) {
                out.addAll(e.ids);
                return;
            }
            int[] ids = bpe(utf8(s, start, end));
            cache[idx] = new CacheEntry(s.substring(start, end), ids);
            out.addAll(ids);
            return;
        }
        out.addAll(bpe(utf8(s, start, end)));
    }

    /** UTF-8 bytes of s[start, end); a lone surrogate becomes U+FFFD. */
    static byte[] utf8(String s, int start, int end) {
        byte[] b = new byte[(end - start) * 3];
        int n = 0;
        for (int i = start; i < end; ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c < 0x80) {
                b[n++] = (byte) c;
            } else if (c < 0x800) {
                b[n++] = (byte) (0xC0 | (c >> 6));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                if (Character.isSurrogate((char) c)) c = 0xFFFD;
                b[n++] = (byte) (0xE0 | (c >> 12));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            } else {
                b[n++] = (byte) (0xF0 | (c >> 18));
                b[n++] = (byte) (0x80 | ((c >> 12) & 0x3F));
                b[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[n++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return n == b.length ? b : Arrays.copyOf(b, n);
    }

    /** BPE of one piece's bytes. */
    int[] bpe(byte[] bytes) {
        int n = bytes.length;
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) sym[i] = byteToId[bytes[i] & 0xFF];
        if (n < 2) return sym;
        return n <= 256 ? mergeSmall(sym) : mergeLarge(sym);
    }

    /** Repeatedly merges the lowest-ranked adjacent pair (leftmost on ties): O(n^2), fastest for short pieces. */
    private int[] mergeSmall(int[] sym) {
        int n = sym.length;
        int[] rank = new int[n]; // rank[i]: rank of the pair (sym[i], sym[i+1]), or MAX_VALUE
        int[] merged = new int[n];
        for (int i = 0; i + 1 < n; i++) pairAt(sym, i, rank, merged);
        rank[n - 1] = Integer.MAX_VALUE;
        while (n > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                if (rank[i] < bestRank) {
                    bestRank = rank[i];
                    best = i;
                }
            }
            if (best < 0) break;
            sym[best] = merged[best];
            System.arraycopy(sym, best + 2, sym, best + 1, n - best - 2);
            System.arraycopy(rank, best + 2, rank, best + 1, n - best - 2);
            System.arraycopy(merged, best + 2, merged, best + 1, n - best - 2);
            n--;
            rank[n - 1] = Integer.MAX_VALUE;
            if (best + 1 < n) pairAt(sym, best, rank, merged);
            else rank[best] = Integer.MAX_VALUE;
            if (best > 0) pairAt(sym, best - 1, rank, merged);
        }
        return Arrays.copyOf(sym, n);
    }

    private void pairAt(int[] sym, int i, int[] rank, int[] merged) {
        int slot = find(sym[i], sym[i + 1]);
        if (slot < 0) {
            rank[i] = Integer.MAX_VALUE;
        } else {
            rank[i] = pairRanks[slot];
            merged[i] = pairMerged[slot];
        }
    }

    /**
     * The same merge order with a doubly linked list and a binary heap of (rank, position): O(n log n) for long pieces
     * (long runs of letters, kana or whitespace). Stale heap entries are skipped.
     */
    private int[] mergeLarge(int[] sym) {
        int n = sym.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] alive = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) push(heap, sym, i, i + 1);
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int pos = (int) (top & 0xFFFFFFFFL);
            int right = next[pos];
            if (!alive[pos] || right < 0) continue;
            int slot = find(sym[pos], sym[right]);
            if (slot < 0 || pairRanks[slot] != (int) (top >>> 32)) continue; // stale
            sym[pos] = pairMerged[slot];
            alive[right] = false;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0) push(heap, sym, prev[pos], pos);
            if (next[pos] >= 0) push(heap, sym, pos, next[pos]);
        }
        IntList out = new IntList(n);
        for (int i = 0; i >= 0; i = next[i]) out.add(sym[i]);
        return out.toArray();
    }

    private void push(LongHeap heap, int[] sym, int left, int right) {
        int slot = find(sym[left], sym[right]);
        if (slot >= 0) heap.push(((long) pairRanks[slot] << 32) | left);
    }

    /** Min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) a = Arrays.copyOf(a, size * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (a[c] >= v) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }
}
