package dev.dsv32.api.spi;

import java.util.Objects;

/**
 * One entry of a forward step: the next {@code tokens} of {@code sequence} (at least one).
 *
 * @param sequence the sequence they continue
 * @param tokens the tokens
 * @param sampled whether the caller samples from this entry's row of logits; when false (a prefill chunk that is not
 *     the prompt's last) an engine may skip computing the row, which is then unspecified
 */
public record StepEntry(EngineSequence sequence, int[] tokens, boolean sampled) {
    public StepEntry {
        Objects.requireNonNull(sequence, "sequence");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("a step entry needs at least one token");
    }

    /** An entry whose row is sampled. */
    public StepEntry(EngineSequence sequence, int[] tokens) {
        this(sequence, tokens, true);
    }
}
