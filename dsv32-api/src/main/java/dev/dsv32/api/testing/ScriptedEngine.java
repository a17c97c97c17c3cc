package dev.dsv32.api.testing;

import dev.dsv32.api.CapacityException;
import dev.dsv32.api.spi.EngineSequence;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.api.spi.StepEntry;
import dev.dsv32.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A test double of the engine that writes prescribed completions: for agent and application tests without a model.
 * Everything else is real (encoder, tokenizer, scheduler, sampler, streaming parser), so a completion goes through
 * exactly the path a model's output takes.
 *
 * <p>When a sequence receives the end of a prompt, the script is asked for the completion of the prompt text (all the sequence's
 * tokens, decoded); its tokens are then produced one per step by logits that put all the mass on the next one,
 * followed by {@code <｜end▁of▁sentence｜>} (once the text is used up; write it yourself to end earlier). The text
 * is what the model writes after the prompt: in thinking mode {@code "reasoning</think>answer"}.
 *
 * <pre>{@code
 * ScriptedEngine engine = ScriptedEngine.of("Need weather.</think>\n\n<｜DSML｜function_calls>...", "It is sunny.</think>Sunny.");
 * try (Model model = Model.builder().engine(engine).build()) { ... }
 * }</pre>
 *
 * Thread-safe.
 */
public final class ScriptedEngine implements InferenceEngine {
    /** The logit of the scripted token (all others are 0): its probability is 1 - 1e-8 at temperature 1. */
    private static final float PEAK = 40f;

    private final Function<String, String> script;
    private final Tokenizer tokenizer = Tokenizer.v32();
    private final int vocab;
    private final int maxContext;
    private final int maxSequences;
    /** Paged-cache imitation: blocks of {@link #BLOCK} tokens, {@code poolBlocks} in all; 0 = unlimited. */
    private final long poolBlocks;
    private static final int BLOCK = 16;
    private final List<Seq> live = new ArrayList<>();
    private final List<String> prompts = new ArrayList<>();
    private int open;
    private long steps;
    private boolean closed;

    private ScriptedEngine(Function<String, String> script, int vocab, int maxContext, int maxSequences, long poolBlocks) {
        this.script = Objects.requireNonNull(script, "script");
        this.vocab = vocab;
        this.maxContext = maxContext;
        this.maxSequences = maxSequences;
        this.poolBlocks = poolBlocks;
    }

    /** Answers the prompts in order with {@code completions}; a prompt after the last one is an error. */
    public static ScriptedEngine of(String... completions) {
        Deque<String> queue = new ArrayDeque<>(List.of(completions));
        return new ScriptedEngine(prompt -> {
            synchronized (queue) {
                String c = queue.poll();
                if (c == null) throw new IllegalStateException("the script has no completion left for prompt #" + (completions.length + 1));
                return c;
            }
        }, 129_280, 8192, 64, 0);
    }

    /** Answers each prompt with {@code script.apply(promptText)}. */
    public static ScriptedEngine of(Function<String, String> script) {
        return new ScriptedEngine(script, 129_280, 8192, 64, 0);
    }

    /** The same script with other limits. */
    public ScriptedEngine withLimits(int maxContext, int maxSequences) {
        if (maxContext < 2) throw new IllegalArgumentException("maxContext must be >= 2, got " + maxContext);
        if (maxSequences < 1) throw new IllegalArgumentException("maxSequences must be >= 1, got " + maxSequences);
        return new ScriptedEngine(script, vocab, maxContext, maxSequences, poolBlocks);
    }

    /**
     * The same script with a KV pool of {@code tokens} (blocks of 16): {@link #cacheStats()} reports it, and a step
     * that needs more blocks than are free fails with a {@link CapacityException} and changes nothing, as the native
     * engine's paged cache does.
     */
    public ScriptedEngine withKvPool(int tokens) {
        if (tokens < BLOCK) throw new IllegalArgumentException("the KV pool must hold at least " + BLOCK + " tokens, got " + tokens);
        return new ScriptedEngine(script, vocab, maxContext, maxSequences, tokens / BLOCK);
    }

    @Override
    public synchronized java.util.Optional<dev.dsv32.api.spi.CacheStats> cacheStats() {
        if (poolBlocks == 0) return java.util.Optional.empty();
        return java.util.Optional.of(new dev.dsv32.api.spi.CacheStats(BLOCK, poolBlocks, poolBlocks - usedBlocks()));
    }

    private long usedBlocks() {
        long used = 0;
        for (Seq s : live) used += (s.length + BLOCK - 1) / BLOCK;
        return used;
    }

    /** Every prompt the script was asked about, in order. */
    public synchronized List<String> prompts() {
        return Collections.unmodifiableList(new ArrayList<>(prompts));
    }

    /** Forward steps run. */
    public synchronized long steps() {
        return steps;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int maxContext() {
        return maxContext;
    }

    @Override
    public int maxSequences() {
        return maxSequences;
    }

    @Override
    public synchronized int openSequenceCount() {
        return open;
    }

    @Override
    public synchronized EngineSequence openSequence() {
        if (closed) throw new IllegalStateException("the engine is closed");
        if (open >= maxSequences) throw new CapacityException("all " + maxSequences + " sequences are in use");
        open++;
        Seq s = new Seq();
        live.add(s);
        return s;
    }

    @Override
    public float[] step(List<StepEntry> batch) {
        // The script runs outside the engine's monitor: a script that blocks (a test holding a request in flight) must
        // not block the engine's other calls meanwhile (the cache statistics a new request's admission reads, a
        // sequence's length). The scheduler steps from one thread, so nothing else moves these sequences in between.
        final int continues = 0, prefill = 1, ask = 2;
        int[] kind = new int[batch.size()];
        String[] asked = new String[batch.size()];
        synchronized (this) {
            if (closed) throw new IllegalStateException("the engine is closed");
            for (int i = 0; i < batch.size(); i++) {
                Seq s = (Seq) batch.get(i).sequence();
                if (s.closed) throw new IllegalStateException("batch entry " + i + ": the sequence is closed");
                if (s.length + batch.get(i).tokens().length > maxContext) {
                    throw new CapacityException("batch entry " + i + ": the sequence would exceed " + maxContext + " tokens");
                }
            }
            if (poolBlocks > 0) {
                long need = 0;
                for (StepEntry e : batch) {
                    Seq s = (Seq) e.sequence();
                    need += (s.length + e.tokens().length + BLOCK - 1) / BLOCK - (s.length + BLOCK - 1) / BLOCK;
                }
                long free = poolBlocks - usedBlocks();
                if (need > free) throw new CapacityException("the step needs " + need + " KV blocks, " + free + " of " + poolBlocks + " are free");
            }
            steps++;
            for (int i = 0; i < batch.size(); i++) {
                Seq s = (Seq) batch.get(i).sequence();
                int[] t = batch.get(i).tokens();
                boolean goesOn = t.length == 1 && s.script != null && s.cursor < s.script.length && t[0] == s.script[s.cursor];
                s.append(t);
                if (goesOn) {
                    kind[i] = continues;
                    s.cursor++;
                } else if (!batch.get(i).sampled()) { // a prefill chunk before the prompt's last one
                    kind[i] = prefill;
                    s.script = null;
                } else { // a new prompt: ask the script (below, without the monitor)
                    kind[i] = ask;
                    asked[i] = tokenizer.decode(Arrays.copyOf(s.tokens, s.length));
                    prompts.add(asked[i]);
                    s.script = null;
                }
            }
        }
        int[][] answers = new int[batch.size()][];
        for (int i = 0; i < batch.size(); i++) {
            if (kind[i] == ask) answers[i] = tokenizer.encode(script.apply(asked[i]));
        }
        synchronized (this) {
            float[] logits = new float[batch.size() * vocab];
            for (int i = 0; i < batch.size(); i++) {
                if (kind[i] == prefill) continue;
                Seq s = (Seq) batch.get(i).sequence();
                if (kind[i] == ask) {
                    s.script = answers[i];
                    s.cursor = 0;
                }
                int next = s.cursor < s.script.length ? s.script[s.cursor] : Tokenizer.EOS_ID;
                logits[i * vocab + next] = PEAK;
            }
            return logits;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        open = 0;
        live.clear();
    }

    private final class Seq implements EngineSequence {
        int[] tokens = new int[64];
        int length;
        int[] script;
        int cursor;
        boolean closed;

        void append(int[] t) {
            if (length + t.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(2 * tokens.length, length + t.length));
            System.arraycopy(t, 0, tokens, length, t.length);
            length += t.length;
        }

        @Override
        public int length() {
            synchronized (ScriptedEngine.this) {
                return length;
            }
        }

        @Override
        public void truncate(int newLength) {
            synchronized (ScriptedEngine.this) {
                if (newLength < 0 || newLength > length) throw new IllegalArgumentException("truncate to " + newLength + " of " + length);
                length = newLength;
                script = null;
            }
        }

        @Override
        public EngineSequence fork() {
            synchronized (ScriptedEngine.this) {
                Seq s = (Seq) openSequence();
                s.tokens = Arrays.copyOf(tokens, tokens.length);
                s.length = length;
                return s;
            }
        }

        @Override
        public void close() {
            synchronized (ScriptedEngine.this) {
                if (closed) return;
                closed = true;
                live.remove(this);
                if (!ScriptedEngine.this.closed) open--;
            }
        }
    }
}
