package dev.dsv32.api.internal;

import dev.dsv32.api.CapacityException;
import dev.dsv32.api.spi.CacheStats;
import dev.dsv32.api.spi.EngineSequence;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.api.spi.StepEntry;
import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.NativeException;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeSequence;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@link InferenceEngine} over {@link NativeModel}: one {@link NativeModel#forwardLast} call per step for the whole
 * batch (all entries share one pass over the weights; one row of logits per entry), the engine's paged KV cache
 * ({@link NativeModel#cacheStats()}), and its truncate and copy-on-write fork. Capacity errors of the engine (no free
 * sequence or cache block; the engine changes nothing) become {@link CapacityException}s.
 */
public final class NativeEngine implements InferenceEngine {
    private final NativeModel model;
    private final int vocab;
    private final int maxContext;
    private final int maxSequences;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

    public NativeEngine(NativeModel model, int maxSequences) {
        this.model = model;
        this.vocab = model.info().vocabSize();
        this.maxContext = model.info().maxSeqLen();
        this.maxSequences = maxSequences;
    }

    public NativeModel nativeModel() {
        return model;
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
    public int openSequenceCount() {
        return open.get();
    }

    @Override
    public synchronized EngineSequence openSequence() {
        Seq s = new Seq(capacity(model::openSequence));
        open.incrementAndGet();
        return s;
    }

    @Override
    public synchronized float[] step(List<StepEntry> batch) {
        List<BatchEntry> entries = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            StepEntry e = batch.get(i);
            if (!(e.sequence() instanceof Seq s) || s.engine() != this) {
                throw new IllegalArgumentException("batch entry " + i + ": the sequence belongs to another engine");
            }
            if (s.closed) throw new IllegalStateException("batch entry " + i + ": the sequence is closed");
            entries.add(new BatchEntry(s.nat, e.tokens()));
        }
        return capacity(() -> model.forwardLast(entries));
    }

    @Override
    public Optional<CacheStats> cacheStats() {
        synchronized (this) {
            if (model.isClosed()) return Optional.empty();
            dev.dsv32.nativ.CacheStats c = model.cacheStats();
            return Optional.of(new CacheStats(c.blockSize(), c.totalBlocks(), c.freeBlocks()));
        }
    }

    @Override
    public synchronized void close() {
        model.close();
        open.set(0);
    }

    private static <T> T capacity(Supplier<T> call) {
        try {
            return call.get();
        } catch (NativeException e) {
            if (e.status() == NativeException.Status.CAPACITY) throw new CapacityException(e.getMessage(), e);
            throw e;
        }
    }

    private final class Seq implements EngineSequence {
        final NativeSequence nat;
        boolean closed;

        Seq(NativeSequence nat) {
            this.nat = nat;
        }

        NativeEngine engine() {
            return NativeEngine.this;
        }

        @Override
        public int length() {
            synchronized (NativeEngine.this) {
                return nat.position();
            }
        }

        @Override
        public void truncate(int newLength) {
            synchronized (NativeEngine.this) {
                if (closed) throw new IllegalStateException("the sequence is closed");
                nat.truncate(newLength);
            }
        }

        @Override
        public EngineSequence fork() {
            synchronized (NativeEngine.this) {
                if (closed) throw new IllegalStateException("the sequence is closed");
                Seq copy = new Seq(capacity(nat::fork));
                open.incrementAndGet();
                return copy;
            }
        }

        @Override
        public void close() {
            synchronized (NativeEngine.this) {
                if (closed) return;
                closed = true;
                if (!model.isClosed()) nat.close();
                open.decrementAndGet();
            }
        }
    }
}
