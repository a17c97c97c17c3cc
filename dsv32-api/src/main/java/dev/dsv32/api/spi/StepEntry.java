package dev.dsv32.api.spi;

import java.util.Objects;

/** One entry of a forward step: the next {@code tokens} of {@code sequence} (at least one). */
public record StepEntry(EngineSequence sequence, int[] tokens) {
    public StepEntry {
        Objects.requireNonNull(sequence, "sequence");
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("a step entry needs at least one token");
    }
}
