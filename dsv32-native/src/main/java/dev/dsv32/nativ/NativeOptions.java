package dev.dsv32.nativ;

import java.util.Objects;

/**
 * How {@link NativeModel#open} opens a checkpoint ({@code dsv32_open_options}). Zero means "the default" for the
 * numeric fields, as in C.
 *
 * @param numerics numerics mode
 * @param mp model-parallel ranks (threads on CPU); 0 or 1 = none. The weights are split as the official convert.py
 *     splits them: a value that does not divide a split dimension (or leaves an FP8 slice without whole 128-blocks)
 *     makes {@link NativeModel#open} throw a {@link NativeException} naming the config field or tensor
 * @param maxSeqLen cache length per sequence; 0 = the config's max_position_embeddings
 * @param maxSequences sequences open at once; 0 = 8
 * @param threads worker threads; 0 = all cores
 * @param debugFlags {@code DSV32_DEBUG_*} bits that break the model on purpose (tests only); see {@link DebugFlag}
 * @param progress called while the model loads; {@code null} for none (see {@link LoadProgressListener})
 * @param kvBlockSize positions per KV cache block; 0 = 64
 * @param kvPoolTokens KV cache pool capacity in positions (rounded up to whole blocks); 0 = maxSequences x maxSeqLen.
 *     Blocks are allocated on first use, never for the whole pool up front
 * @param backend where the model computes (default {@link NativeBackend#CPU}); {@link NativeBackend#CUDA} fails to
 *     open with a {@link BackendUnavailableException} when this build or machine has no usable CUDA device
 * @param device CUDA device ordinal (0 = the first)
 */
public record NativeOptions(Numerics numerics, int mp, int maxSeqLen, int maxSequences, int threads, int debugFlags,
                            LoadProgressListener progress, int kvBlockSize, int kvPoolTokens, NativeBackend backend,
                            int device) {
    /** Debug flags (bits of {@link #debugFlags()}). */
    public enum DebugFlag {
        /** The MLA RoPE layout for the indexer (the pre-fix bug). */
        INDEXER_ROPE_INTERLEAVED(1),
        /** Plain RoPE frequencies and no mscale. */
        NO_YARN(2),
        /** Ignore e_score_correction_bias when routing. */
        NO_GATE_BIAS(4),
        /** Fault injection: allocating a KV cache block fails (as out of memory) once half the pool is allocated. */
        KV_ALLOC_FAILS(8),
        /**
         * Not a bug but a benchmark switch: dense attention, every query attends to every cached key (no indexer
         * top-k). The same logits as sparse attention while the context is at most {@code index_topk}.
         */
        DENSE_ATTENTION(16);

        private final int bit;

        DebugFlag(int bit) {
            this.bit = bit;
        }

        public int bit() {
            return bit;
        }
    }

    /** Options without a progress listener, with the default KV cache block size and pool. */
    public NativeOptions(Numerics numerics, int mp, int maxSeqLen, int maxSequences, int threads, int debugFlags) {
        this(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, null, 0, 0, NativeBackend.CPU, 0);
    }

    /** Options with the default KV cache block size and pool. */
    public NativeOptions(Numerics numerics, int mp, int maxSeqLen, int maxSequences, int threads, int debugFlags,
                         LoadProgressListener progress) {
        this(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, 0, 0, NativeBackend.CPU, 0);
    }

    /** Options on the CPU backend. */
    public NativeOptions(Numerics numerics, int mp, int maxSeqLen, int maxSequences, int threads, int debugFlags,
                         LoadProgressListener progress, int kvBlockSize, int kvPoolTokens) {
        this(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, NativeBackend.CPU, 0);
    }

    public NativeOptions {
        Objects.requireNonNull(numerics, "numerics");
        requireNonNegative(mp, "mp");
        requireNonNegative(maxSeqLen, "maxSeqLen");
        requireNonNegative(maxSequences, "maxSequences");
        requireNonNegative(threads, "threads");
        if ((debugFlags & ~31) != 0) throw new IllegalArgumentException("unknown debug flags: " + debugFlags);
        requireNonNegative(kvBlockSize, "kvBlockSize");
        if (kvBlockSize > 65536) throw new IllegalArgumentException("kvBlockSize must be at most 65536, got " + kvBlockSize);
        requireNonNegative(kvPoolTokens, "kvPoolTokens");
        Objects.requireNonNull(backend, "backend");
        requireNonNegative(device, "device");
    }

    /** All defaults: the model's numerics, no model parallelism, config cache length, 8 sequences, all cores. */
    public static NativeOptions defaults() {
        return new NativeOptions(Numerics.DEFAULT, 0, 0, 0, 0, 0, null, 0, 0, NativeBackend.CPU, 0);
    }

    public NativeOptions withNumerics(Numerics n) {
        return new NativeOptions(n, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    public NativeOptions withMp(int v) {
        return new NativeOptions(numerics, v, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    public NativeOptions withMaxSeqLen(int v) {
        return new NativeOptions(numerics, mp, v, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    public NativeOptions withMaxSequences(int v) {
        return new NativeOptions(numerics, mp, maxSeqLen, v, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    public NativeOptions withThreads(int v) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, v, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    public NativeOptions withDebug(DebugFlag... flags) {
        int bits = debugFlags;
        for (DebugFlag f : flags) bits |= f.bit();
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, bits, progress, kvBlockSize, kvPoolTokens, backend, device);
    }

    /** The same options with a load progress listener ({@code null}: none). */
    public NativeOptions withProgress(LoadProgressListener listener) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, listener, kvBlockSize, kvPoolTokens, backend, device);
    }

    /** Positions per KV cache block (0 = 64). */
    public NativeOptions withKvBlockSize(int v) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, v, kvPoolTokens, backend, device);
    }

    /** KV cache pool capacity in positions, rounded up to whole blocks (0 = maxSequences x maxSeqLen). */
    public NativeOptions withKvPoolTokens(int v) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, v, backend, device);
    }

    /** The backend (CPU, CUDA or AUTO). */
    public NativeOptions withBackend(NativeBackend b) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, b, device);
    }

    /** The CUDA device ordinal. */
    public NativeOptions withDevice(int v) {
        return new NativeOptions(numerics, mp, maxSeqLen, maxSequences, threads, debugFlags, progress, kvBlockSize, kvPoolTokens, backend, v);
    }

    private static void requireNonNegative(int v, String name) {
        if (v < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + v);
    }
}
