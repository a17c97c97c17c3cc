package dev.dsv32.api.internal;

import dev.dsv32.api.spi.EngineSequence;
import java.util.Arrays;

/**
 * The runtime side of a session: its engine sequence and the tokens in its KV cache. Mutated by the engine thread
 * while a request of the session runs ({@link #busy}), else by the session's caller under the session's lock.
 */
public final class SessionState {
    public EngineSequence sequence;
    private int[] tokens = new int[64];
    private int length;
    public volatile boolean busy;
    /** The request running now, while {@link #busy}. */
    public volatile Job current;
    public volatile boolean closed;
    /** The prompt tokens reused and computed by the last request. */
    public volatile int lastCached;
    public volatile int lastPrefilled;

    public int length() {
        return length;
    }

    public int[] tokens() {
        return Arrays.copyOf(tokens, length);
    }

    public int token(int i) {
        return tokens[i];
    }

    public void append(int[] t, int from, int n) {
        if (length + n > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + n));
        System.arraycopy(t, from, tokens, length, n);
        length += n;
    }

    public void append(int t) {
        if (length == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[length++] = t;
    }

    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("truncate to " + n + " of " + length);
        length = n;
    }

    /** The number of leading tokens shared with {@code other}. */
    public int commonPrefix(int[] other) {
        int n = Math.min(length, other.length);
        int i = 0;
        while (i < n && tokens[i] == other[i]) i++;
        return i;
    }

    /** A copy holding the same tokens and {@code seq}. */
    public SessionState copyWith(EngineSequence seq) {
        SessionState s = new SessionState();
        s.sequence = seq;
        s.tokens = Arrays.copyOf(tokens, Math.max(tokens.length, 1));
        s.length = length;
        return s;
    }
}
