package dev.dsv32.api.internal;

import dev.dsv32.api.CapacityException;
import dev.dsv32.api.spi.EngineSequence;
import dev.dsv32.api.spi.InferenceEngine;
import dev.dsv32.api.spi.StepEntry;
import dev.dsv32.nativ.BatchEntry;
import dev.dsv32.nativ.NativeException;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeSequence;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link InferenceEngine} over {@link NativeModel}. One forward call per step for the whole batch.
 *
 * <p>Until the engine exposes last-token logits, truncation and forking, this class provides them on top of
 * {@code forward()}: it keeps each sequence's tokens, takes the last row of every entry from the full logits (written
 * into one reused direct buffer), and truncates or forks by re-prefilling the kept prefix into a fresh native sequence
 * at the next step.
 */
public final class NativeEngine implements InferenceEngine {
    private final NativeModel model;
    private final int vocab;
    private final int maxContext;
    private final int maxSequences;
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    private FloatBuffer rows = FloatBuffer.allocate(0);

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
        Seq s = new Seq(openNative());
        open.incrementAndGet();
        return s;
    }

    private NativeSequence openNative() {
        try {
            return model.openSequence();
        } catch (NativeException e) {
            if (e.status() == NativeException.Status.CAPACITY) throw new CapacityException("no free sequence: " + e.getMessage(), e);
            throw e;
        }
    }

    @Override
    public synchronized float[] step(List<StepEntry> batch) {
        List<BatchEntry> entries = new ArrayList<>(batch.size());
        int[] lastRow = new int[batch.size()];
        int rowsTotal = 0;
        for (int i = 0; i < batch.size(); i++) {
            StepEntry e = batch.get(i);
            if (!(e.sequence() instanceof Seq s) || s.engine() != this) {
                throw new IllegalArgumentException("batch entry " + i + ": the sequence belongs to another engine");
            }
            if (s.closed) throw new IllegalStateException("batch entry " + i + ": the sequence is closed");
            int[] tokens = e.tokens();
            if (s.pending > 0) { // re-prefill after truncate or fork
                int[] t = new int[s.pending + tokens.length];
                System.arraycopy(s.tokens, s.length - s.pending, t, 0, s.pending);
                System.arraycopy(tokens, 0, t, s.pending, tokens.length);
                tokens = t;
            }
            entries.add(new BatchEntry(s.nat, tokens));
            rowsTotal += tokens.length;
            lastRow[i] = rowsTotal - 1;
        }
        long need = (long) rowsTotal * vocab;
        if (need > Integer.MAX_VALUE) throw new IllegalArgumentException("a step of " + rowsTotal + " tokens is too large");
        if (!rows.isDirect() || rows.capacity() < need) {
            rows = ByteBuffer.allocateDirect((int) need * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        rows.clear();
        try {
            model.forward(entries, rows);
        } catch (NativeException e) {
            if (e.status() == NativeException.Status.CAPACITY) throw new CapacityException(e.getMessage(), e);
            throw e;
        }
        float[] out = new float[batch.size() * vocab];
        for (int i = 0; i < batch.size(); i++) {
            rows.get(lastRow[i] * vocab, out, i * vocab, vocab);
            Seq s = (Seq) batch.get(i).sequence();
            s.pending = 0;
            s.append(batch.get(i).tokens());
        }
        return out;
    }

    @Override
    public synchronized void close() {
        model.close();
        open.set(0);
    }

    private void closed(Seq s) {
        open.decrementAndGet();
    }

    private final class Seq implements EngineSequence {
        NativeSequence nat;
        int[] tokens = new int[64];
        int length;
        /** The last {@code pending} of {@link #tokens} are not in the native cache yet. */
        int pending;
        boolean closed;

        Seq(NativeSequence nat) {
            this.nat = nat;
        }

        NativeEngine engine() {
            return NativeEngine.this;
        }

        void append(int[] t) {
            if (length + t.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(tokens.length * 2, length + t.length));
            System.arraycopy(t, 0, tokens, length, t.length);
            length += t.length;
        }

        @Override
        public int length() {
            synchronized (NativeEngine.this) {
                return length;
            }
        }

        @Override
        public void truncate(int newLength) {
            synchronized (NativeEngine.this) {
                check();
                if (newLength < 0 || newLength > length) {
                    throw new IllegalArgumentException("truncate to " + newLength + ": the sequence has " + length + " tokens");
                }
                if (newLength == length) return;
                // Fallback: a fresh native sequence; the kept prefix is computed again with the next step.
                nat.close();
                nat = openNative();
                length = newLength;
                pending = newLength;
            }
        }

        @Override
        public EngineSequence fork() {
            synchronized (NativeEngine.this) {
                check();
                Seq copy = new Seq(openNative());
                open.incrementAndGet();
                copy.tokens = Arrays.copyOf(tokens, tokens.length);
                copy.length = length;
                copy.pending = length; // fallback: computed again with its next step
                return copy;
            }
        }

        @Override
        public void close() {
            synchronized (NativeEngine.this) {
                if (closed) return;
                closed = true;
                if (!model.isClosed()) nat.close();
                closed(this);
            }
        }

        private void check() {
            if (closed) throw new IllegalStateException("the sequence is closed");
        }
    }
}
