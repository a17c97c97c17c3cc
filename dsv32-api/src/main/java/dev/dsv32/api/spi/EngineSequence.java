package dev.dsv32.api.spi;

/** One sequence of an {@link InferenceEngine}: the tokens it has processed live in its KV cache. */
public interface EngineSequence extends AutoCloseable {
    /** Tokens processed so far (the position of the next token). */
    int length();

    /** Drops every token from position {@code newLength} on; {@code 0 <= newLength <= length()}. */
    void truncate(int newLength);

    /**
     * A new sequence holding the same tokens (sharing the cached prefix where the engine can).
     *
     * @throws dev.dsv32.api.CapacityException when no sequence is free
     */
    EngineSequence fork();

    /** Frees the sequence. Idempotent. */
    @Override
    void close();
}
