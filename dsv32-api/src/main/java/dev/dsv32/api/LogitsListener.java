package dev.dsv32.api;

/**
 * Debug hook: sees the row of logits each completion token was sampled from. Called on the engine thread, once per
 * generated token, before sampling (ids past the tokenizer's vocabulary, padding rows, are already -inf); {@code logits} is a view of {@code vocab} floats starting at {@code offset} that
 * is valid only during the call (copy what you keep). Slows generation down; for tests and diagnostics.
 */
@FunctionalInterface
public interface LogitsListener {
    /**
     * @param step 0 for the first completion token, then 1, 2, ...
     * @param logits the step's logits array
     * @param offset where this request's row starts
     * @param vocab the row length
     */
    void onLogits(int step, float[] logits, int offset, int vocab);
}
