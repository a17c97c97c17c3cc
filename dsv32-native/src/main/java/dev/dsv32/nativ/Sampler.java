package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;

/**
 * Samples token ids from rows of logits in native code ({@code dsv32_sample}), with the {@link SamplingOptions} it
 * was created from. It holds the state of the SplitMix64 generator, which starts at the options' seed and advances
 * by exactly one step per non-greedy sample, so a seed reproduces the same tokens (on every platform).
 *
 * <p>Not thread-safe: use one sampler per thread (or per sequence). One sample is one JNI call. Ranges are checked in
 * Java; bad logits (NaN, +inf, all -inf) come back from the engine as a {@link NativeException}.
 */
public final class Sampler {
    private final SamplingOptions options;
    private final long[] state = new long[1];
    private final int[] token = new int[1];

    /** A sampler with {@code options}, its generator at {@code options.seed()}. */
    public Sampler(SamplingOptions options) {
        this.options = Objects.requireNonNull(options, "options");
        this.state[0] = options.seed();
    }

    public SamplingOptions options() {
        return options;
    }

    /** The generator's current state (the seed before the first non-greedy sample). */
    public long state() {
        return state[0];
    }

    /** Samples one token id from {@code logits[offset .. offset + vocab)}. */
    public int sample(float[] logits, int offset, int vocab) {
        Objects.requireNonNull(logits, "logits");
        if (vocab <= 0) throw new IllegalArgumentException("vocab must be > 0, got " + vocab);
        Objects.checkFromIndexSize(offset, vocab, logits.length);
        int rc = Dsv32Native.dsv32_sample_flat(logits, logits.length, offset, vocab, options.temperature(), options.topP(),
                options.topK(), state, token);
        if (rc != Dsv32Native.DSV32_OK) throw error(rc);
        return token[0];
    }

    /** Samples one token id from a whole row ({@code logits.length} is the vocabulary size). */
    public int sample(float[] logits) {
        Objects.requireNonNull(logits, "logits");
        return sample(logits, 0, logits.length);
    }

    @Override
    public String toString() {
        return "Sampler[" + options + ", state=" + Long.toUnsignedString(state[0]) + "]";
    }

    private static NativeException error(int rc) {
        String msg;
        try {
            BytePointer p = Dsv32Native.dsv32_last_error(); // owned by the engine: not freed here
            msg = p == null || p.isNull() ? "" : p.getString(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            msg = "";
        }
        return NativeException.of(rc, "dsv32_sample", msg);
    }
}
