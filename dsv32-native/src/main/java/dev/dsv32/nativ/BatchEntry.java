package dev.dsv32.nativ;

import java.util.Objects;

/**
 * One entry of a forward batch: the next {@code tokens} of {@code sequence}, which continue from the tokens it has
 * already processed ({@link NativeSequence#position()}). More than one token is a prefill chunk; one token after the
 * first goes through the decode path.
 */
public record BatchEntry(NativeSequence sequence, int[] tokens) {
    public BatchEntry {
        Objects.requireNonNull(sequence, "sequence");
        Objects.requireNonNull(tokens, "tokens");
    }

    public static BatchEntry of(NativeSequence sequence, int... tokens) {
        return new BatchEntry(sequence, tokens);
    }
}
