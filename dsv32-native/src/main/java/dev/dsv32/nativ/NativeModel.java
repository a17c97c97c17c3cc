package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_kv_cache_stats;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_model;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_model_info;
import dev.dsv32.nativ.jni.Dsv32Native.dsv32_open_options;
import java.lang.ref.Cleaner;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;

/**
 * A DeepSeek-V3.2 checkpoint opened by the native engine (libdsv32, through JNI).
 *
 * <pre>{@code
 * try (NativeModel model = NativeModel.open(dir, NativeOptions.defaults());
 *      NativeSequence seq = model.openSequence()) {
 *     float[] prefill = seq.forward(promptIds);     // promptIds.length × vocab
 *     float[] next = seq.forward(nextId);           // 1 × vocab, the decode path
 * }
 * }</pre>
 *
 * <p>Arguments are checked in Java before any native call (closed objects, token ids against the vocabulary, cache
 * capacity); what the engine still rejects comes back as a {@link NativeException} (a {@link CheckpointException}
 * for checkpoint problems) carrying the engine's message. One forward step is one JNI call. The model is used from
 * one thread at a time: its methods synchronise on it. {@link #close()} is idempotent; any other use after close is
 * an {@link IllegalStateException}.
 */
public final class NativeModel implements AutoCloseable {
    /** Frees models that were never closed, once unreachable (a safety net: close them). */
    private static final Cleaner CLEANER = Cleaner.create();

    private dsv32_model handle; // null once closed
    private final Cleaner.Cleanable cleanable;
    private final Path dir;
    private final ModelInfo info;
    private final Map<NativeSequence, Boolean> sequences = new IdentityHashMap<>();

    private NativeModel(dsv32_model handle, Path dir, ModelInfo info) {
        this.handle = handle;
        this.dir = dir;
        this.info = info;
        this.cleanable = CLEANER.register(this, new Release(handle));
    }

    /** Closes the native model exactly once: from {@link #close()} or, for a leaked model, from the cleaner. */
    private static final class Release implements Runnable {
        private final dsv32_model handle;

        Release(dsv32_model handle) {
            this.handle = handle;
        }

        @Override
        public void run() {
            Dsv32Native.dsv32_model_close(handle);
        }
    }

    /** Opens the checkpoint in {@code dir} with default options. */
    public static NativeModel open(Path dir) {
        return open(dir, NativeOptions.defaults());
    }

    /**
     * Opens the Hugging Face checkpoint in {@code dir} (config.json and *.safetensors, memory-mapped), or a directory
     * written by {@link CheckpointConverter} (each model-parallel rank reads its own file; {@code options.mp()} must be
     * the mp it was converted for, else a {@link NativeException} naming that mp).
     *
     * @throws CheckpointException when the directory, a file or a tensor is missing, unreadable or inconsistent
     * @throws NativeException for other engine errors
     */
    public static NativeModel open(Path dir, NativeOptions options) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        if (!Files.exists(dir)) throw new CheckpointException(dir + ": no such checkpoint directory");
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir + ": not a directory");
        dsv32_model handle = new dsv32_model();
        try (dsv32_open_options o = new dsv32_open_options();
             BytePointer path = new BytePointer(dir.toString(), StandardCharsets.UTF_8);
             LoadProgress.Registration progress = LoadProgress.register(options.progress(), dir)) {
            o.numerics(options.numerics().code())
                    .mp(options.mp())
                    .max_seq_len(options.maxSeqLen())
                    .max_sequences(options.maxSequences())
                    .n_threads(options.threads())
                    .debug_flags(options.debugFlags())
                    .kv_block_size(options.kvBlockSize())
                    .kv_pool_tokens(options.kvPoolTokens())
                    .backend(options.backend().code())
                    .device(options.device());
            if (progress != null) o.progress(progress.function()).progress_user(progress.user());
            int rc = Dsv32Native.dsv32_model_open(path, o, handle);
            if (rc != Dsv32Native.DSV32_OK) {
                throw error(rc, "opening " + dir);
            }
            if (handle.isNull()) throw new NativeException(Dsv32Native.DSV32_ERR_INTERNAL, "opening " + dir + ": no model returned");
        }
        ModelInfo info;
        try (dsv32_model_info i = new dsv32_model_info()) {
            int rc = Dsv32Native.dsv32_model_get_info(handle, i);
            if (rc != Dsv32Native.DSV32_OK) {
                NativeException e = error(rc, "dsv32_model_get_info");
                Dsv32Native.dsv32_model_close(handle);
                throw e;
            }
            Numerics numerics;
            try {
                numerics = Numerics.ofCode(i.numerics());
            } catch (IllegalArgumentException e) {
                numerics = options.numerics();
            }
            NativeBackend backend = NativeBackend.ofCode(i.backend());
            BytePointer dev = Dsv32Native.dsv32_model_device(handle);  // owned by the model: not freed here
            String device = dev == null || dev.isNull() ? "" : dev.getString(StandardCharsets.UTF_8);
            info = new ModelInfo(i.vocab_size(), i.hidden_size(), i.num_layers(), i.max_seq_len(), numerics, i.mp(), backend, device);
        }
        return new NativeModel(handle, dir, info);
    }

    /**
     * Why {@code backend} cannot be used in this process, or empty when it can ({@link NativeBackend#CPU} and
     * {@link NativeBackend#AUTO} always can). The reason is the engine's: "backend cuda is not available in this build
     * (...)" or "backend cuda is not available: no CUDA device (...)"; for HIP also "... libdsv32_hip.so not found (...)".
     */
    public static java.util.Optional<String> backendUnavailableReason(NativeBackend backend) {
        Objects.requireNonNull(backend, "backend");
        int rc = Dsv32Native.dsv32_backend_available(backend.code());
        if (rc == Dsv32Native.DSV32_OK) return java.util.Optional.empty();
        return java.util.Optional.of(error(rc, "dsv32_backend_available").getMessage());
    }

    /** The checkpoint directory. */
    public Path directory() {
        return dir;
    }

    /** Vocabulary size, dimensions, cache length, numerics and model parallelism of the open model. */
    public synchronized ModelInfo info() {
        checkOpen();
        return info;
    }

    /** A fresh, empty sequence (cache slot). */
    public synchronized NativeSequence openSequence() {
        checkOpen();
        int[] id = new int[1];
        int rc = Dsv32Native.dsv32_seq_open(handle, id);
        if (rc != Dsv32Native.DSV32_OK) throw error(rc, "dsv32_seq_open");
        NativeSequence s = new NativeSequence(this, id[0]);
        sequences.put(s, Boolean.TRUE);
        return s;
    }

    /** Runs the next {@code tokens} of one sequence; returns {@code tokens.length × vocab} logits, row-major. */
    public float[] forward(NativeSequence sequence, int... tokens) {
        return forward(List.of(new BatchEntry(sequence, tokens)));
    }

    /**
     * Runs one forward step for a batch (at most one entry per sequence); returns one row of {@code vocab} logits per
     * token, in batch order. Each entry's sequence advances by its number of tokens.
     */
    public synchronized float[] forward(List<BatchEntry> batch) {
        Step step = prepare(batch);
        long len = (long) step.rows * info.vocabSize();
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(step.rows + " rows of " + info.vocabSize() + " logits do not fit in a float[]: use forward(batch, FloatBuffer) with a direct buffer");
        }
        float[] logits = new float[(int) len];
        int rc = Dsv32Native.dsv32_forward_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, logits, len);
        finish(rc, batch);
        return logits;
    }

    /**
     * As {@link #forward(List)}, writing the logits into {@code out} from its position (which advances past them).
     * A direct buffer is written by the engine in place; a heap buffer receives a copy.
     */
    public synchronized void forward(List<BatchEntry> batch, FloatBuffer out) {
        Objects.requireNonNull(out, "out");
        if (out.isReadOnly()) throw new IllegalArgumentException("out is read-only");
        Step step = prepare(batch);
        long len = (long) step.rows * info.vocabSize();
        if (out.remaining() < len) {
            throw new IllegalArgumentException("out has " + out.remaining() + " floats remaining, the batch needs " + len);
        }
        if (!out.isDirect()) {
            out.put(forwardArrayUnchecked(step, batch, len));
            return;
        }
        FloatBuffer target = out.slice();
        int rc = Dsv32Native.dsv32_forward_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, target, len);
        finish(rc, batch);
        out.position(out.position() + (int) len);
    }

    /**
     * Runs one forward step for a batch, like {@link #forward(List)}, but returns only what generation samples from:
     * the logits of each entry's last token, {@code batch.size() × vocab} floats, row i for entry i (the final norm
     * and head run on those rows only). Each entry's sequence advances by its number of tokens.
     */
    public synchronized float[] forwardLast(List<BatchEntry> batch) {
        Step step = prepare(batch);
        long len = (long) batch.size() * info.vocabSize();
        if (len > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(batch.size() + " rows of logits do not fit in a float[]");
        float[] logits = new float[(int) len];
        int rc = Dsv32Native.dsv32_step_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, 1, logits, len, 0);
        finish(rc, batch, "dsv32_forward_last");
        return logits;
    }

    /**
     * As {@link #forwardLast(List)}, writing the {@code batch.size() × vocab} logits into {@code out} from its position
     * (which advances past them). Direct buffers and array-backed heap buffers are written in place (no per-step
     * allocation of a logits array).
     */
    public synchronized void forwardLast(List<BatchEntry> batch, FloatBuffer out) {
        Objects.requireNonNull(out, "out");
        if (out.isReadOnly()) throw new IllegalArgumentException("out is read-only");
        Step step = prepare(batch);
        long len = (long) batch.size() * info.vocabSize();
        if (out.remaining() < len) {
            throw new IllegalArgumentException("out has " + out.remaining() + " floats remaining, the batch needs " + len);
        }
        int rc;
        if (out.isDirect()) {
            rc = Dsv32Native.dsv32_step_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, 1, out.slice(), len, 0);
        } else if (out.hasArray()) {
            float[] a = out.array();
            rc = Dsv32Native.dsv32_step_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, 1, a,
                    (long) out.arrayOffset() + out.position() + len, (long) out.arrayOffset() + out.position());
        } else { // a heap view without an accessible array: not expected from FloatBuffer.allocate/wrap
            float[] tmp = new float[(int) len];
            rc = Dsv32Native.dsv32_step_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, 1, tmp, len, 0);
            if (rc == Dsv32Native.DSV32_OK) out.duplicate().put(tmp);
        }
        finish(rc, batch, "dsv32_forward_last");
        out.position(out.position() + (int) len);
    }

    /** The KV cache pool: block size, capacity, free and allocated blocks, cached positions. */
    public synchronized CacheStats cacheStats() {
        checkOpen();
        try (dsv32_kv_cache_stats st = new dsv32_kv_cache_stats()) {
            int rc = Dsv32Native.dsv32_cache_stats(handle, st);
            if (rc != Dsv32Native.DSV32_OK) throw error(rc, "dsv32_cache_stats");
            return new CacheStats(st.block_size(), st.total_blocks(), st.free_blocks(), st.allocated_blocks(), st.used_tokens(),
                    st.open_sequences(), st.block_bytes());
        }
    }

    private float[] forwardArrayUnchecked(Step step, List<BatchEntry> batch, long len) {
        float[] logits = new float[Math.toIntExact(len)];
        int rc = Dsv32Native.dsv32_forward_flat(handle, step.entries, batch.size(), step.tokens, step.tokens.length, logits, len);
        finish(rc, batch);
        return logits;
    }

    public synchronized boolean isClosed() {
        return handle == null;
    }

    /** Frees the model and all its sequences. Idempotent. */
    @Override
    public synchronized void close() {
        if (handle == null) return;
        for (NativeSequence s : sequences.keySet()) s.markClosed();
        sequences.clear();
        handle = null;
        cleanable.clean(); // dsv32_model_close, once
    }

    @Override
    public String toString() {
        return "NativeModel[" + dir + (handle == null ? ", closed]" : ", " + info + "]");
    }

    // --- internals ---

    private record Step(int[] entries, int[] tokens, int rows) {}

    private Step prepare(List<BatchEntry> batch) {
        Objects.requireNonNull(batch, "batch");
        checkOpen();
        if (batch.isEmpty()) throw new IllegalArgumentException("empty batch");
        int[] entries = new int[3 * batch.size()];
        long rows = 0;
        Map<NativeSequence, Boolean> seen = new IdentityHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            BatchEntry e = Objects.requireNonNull(batch.get(i), "batch entry " + i);
            NativeSequence s = e.sequence();
            if (s.model() != this) throw new IllegalArgumentException("batch entry " + i + ": the sequence belongs to another model");
            if (s.closedUnchecked()) throw new IllegalStateException("batch entry " + i + ": sequence " + s.id() + " is closed");
            if (seen.put(s, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("batch entry " + i + ": sequence " + s.id() + " appears twice in the batch");
            }
            int[] t = e.tokens();
            if (t.length == 0) throw new IllegalArgumentException("batch entry " + i + ": no tokens");
            for (int j = 0; j < t.length; j++) {
                if (t[j] < 0 || t[j] >= info.vocabSize()) {
                    throw new IllegalArgumentException("batch entry " + i + ": token " + j + " = " + t[j]
                            + " is out of the vocabulary range [0, " + info.vocabSize() + ")");
                }
            }
            int pos = s.positionUnchecked();
            if (info.maxSeqLen() > 0 && (long) pos + t.length > info.maxSeqLen()) {
                throw new NativeException(Dsv32Native.DSV32_ERR_CAPACITY, "batch entry " + i + ": sequence " + s.id() + " at position "
                        + pos + " cannot take " + t.length + " more tokens (cache length " + info.maxSeqLen() + ")");
            }
            entries[3 * i] = s.id();
            entries[3 * i + 1] = pos;
            entries[3 * i + 2] = t.length;
            rows += t.length;
        }
        if (rows > Integer.MAX_VALUE) throw new IllegalArgumentException("too many tokens in one batch: " + rows);
        int[] tokens = new int[(int) rows];
        int off = 0;
        for (BatchEntry e : batch) {
            System.arraycopy(e.tokens(), 0, tokens, off, e.tokens().length);
            off += e.tokens().length;
        }
        return new Step(entries, tokens, (int) rows);
    }

    private void finish(int rc, List<BatchEntry> batch) {
        finish(rc, batch, "dsv32_forward");
    }

    private void finish(int rc, List<BatchEntry> batch, String what) {
        if (rc != Dsv32Native.DSV32_OK) throw error(rc, what);
        for (BatchEntry e : batch) e.sequence().advance(e.tokens().length);
    }

    synchronized void truncateSequence(NativeSequence s, int newLength) {
        s.checkOpen();
        int len = s.positionUnchecked();
        if (newLength < 0 || newLength > len) {
            throw new IllegalArgumentException("sequence " + s.id() + ": cannot truncate to " + newLength + " (its length is " + len + ")");
        }
        int rc = Dsv32Native.dsv32_seq_truncate(handle, s.id(), newLength);
        if (rc != Dsv32Native.DSV32_OK) throw error(rc, "dsv32_seq_truncate");
        s.setPosition(newLength);
    }

    synchronized NativeSequence forkSequence(NativeSequence parent) {
        parent.checkOpen();
        int[] id = new int[1];
        int rc = Dsv32Native.dsv32_seq_fork(handle, parent.id(), id);
        if (rc != Dsv32Native.DSV32_OK) throw error(rc, "dsv32_seq_fork");
        NativeSequence s = new NativeSequence(this, id[0]);
        s.setPosition(parent.positionUnchecked());
        sequences.put(s, Boolean.TRUE);
        return s;
    }

    synchronized void closeSequence(NativeSequence s) {
        if (s.closedUnchecked()) return;
        s.markClosed();
        sequences.remove(s);
        int rc = Dsv32Native.dsv32_seq_close(handle, s.id());
        if (rc != Dsv32Native.DSV32_OK) throw error(rc, "dsv32_seq_close");
    }

    void checkOpen() {
        if (handle == null) throw new IllegalStateException("the model " + dir + " is closed");
    }

    static NativeException error(int rc, String what) {
        String msg;
        try {
            BytePointer p = Dsv32Native.dsv32_last_error(); // owned by the engine: not freed here
            msg = p == null || p.isNull() ? "" : p.getString(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            msg = "";
        }
        return NativeException.of(rc, what, msg);
    }

    /** The sequences open now (for tests). */
    synchronized List<NativeSequence> openSequences() {
        return new ArrayList<>(sequences.keySet());
    }
}
