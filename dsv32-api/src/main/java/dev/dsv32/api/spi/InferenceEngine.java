package dev.dsv32.api.spi;

import java.util.List;
import java.util.Optional;

/**
 * The token-level engine behind a local {@link dev.dsv32.api.Model}: sequences (KV cache slots) and one batched forward
 * step. The model's scheduler is its only caller during generation and runs every step on one thread;
 * {@link EngineSequence#close()}, {@link EngineSequence#fork()} and {@link EngineSequence#truncate(int)} may also be
 * called from a user thread between steps, so implementations synchronise.
 *
 * <p>The SDK ships the native implementation (over {@code dsv32-native}) and {@link dev.dsv32.api.testing.ScriptedEngine}
 * (prescribed completions, for agent tests). A custom engine is passed with
 * {@link dev.dsv32.api.Model.Builder#engine(InferenceEngine)}.
 */
public interface InferenceEngine extends AutoCloseable {
    /** Rows of logits have this many entries. */
    int vocabSize();

    /** Cache length of one sequence (prompt plus completion), in tokens. */
    int maxContext();

    /** Sequences that may be open at once. */
    int maxSequences();

    /** The sequences open now (a leak check: 0 once every request and session has finished). */
    int openSequenceCount();

    /**
     * A fresh, empty sequence.
     *
     * @throws dev.dsv32.api.CapacityException when no sequence (or cache block) is free
     */
    EngineSequence openSequence();

    /**
     * Runs one forward step: each entry's tokens continue its sequence (more than one token is a prefill chunk). All
     * entries share the step. Returns one row of {@link #vocabSize()} logits per entry, in entry order: the logits
     * after the entry's last token. On an exception no sequence has advanced.
     */
    float[] step(List<StepEntry> batch);

    /** Free and total KV blocks, where the engine pages its cache. */
    default Optional<CacheStats> cacheStats() {
        return Optional.empty();
    }

    /** Frees the engine and every sequence. Idempotent. */
    @Override
    void close();
}
