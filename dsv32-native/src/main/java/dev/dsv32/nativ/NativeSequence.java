package dev.dsv32.nativ;

/**
 * A sequence of a {@link NativeModel}: one cache slot. {@link #forward(int...)} feeds it the next tokens;
 * {@link #truncate(int)} forgets the cached positions from a point on (a later turn that differs re-prefills from
 * there); {@link #fork()} makes a new sequence with the same cached prefix (shared copy-on-write in the engine).
 * Closing it frees the slot and returns its cache blocks; closing the model closes all its sequences.
 * {@link #close()} is idempotent; any other use after close is an {@link IllegalStateException}.
 */
public final class NativeSequence implements AutoCloseable {
    private final NativeModel model;
    private final int id;
    private int position;
    private boolean closed;

    NativeSequence(NativeModel model, int id) {
        this.model = model;
        this.id = id;
    }

    /** The model this sequence belongs to. */
    public NativeModel model() {
        return model;
    }

    /** The engine's slot number. */
    public int id() {
        return id;
    }

    /** The number of tokens processed so far (the position of the next token). */
    public int position() {
        synchronized (model) {
            checkOpen();
            return position;
        }
    }

    /** Runs the next tokens of this sequence alone; returns their logits, {@code tokens.length × vocab} row-major. */
    public float[] forward(int... tokens) {
        return model.forward(this, tokens);
    }

    /**
     * Forgets the cached positions {@code >= newLength} (whole cache blocks past it return to the pool); the next
     * tokens continue at position {@code newLength}.
     *
     * @throws IllegalArgumentException if {@code newLength} is negative or greater than {@link #position()}
     */
    public void truncate(int newLength) {
        model.truncateSequence(this, newLength);
    }

    /**
     * A new sequence of the same model holding the same cached positions (a shared prefix: the engine shares the
     * cache blocks copy-on-write, so forking takes no memory until the two diverge). The fork is independent: it
     * must be closed on its own, and is closed with the model.
     *
     * @throws NativeException with status CAPACITY when the model's maximum number of sequences are open
     */
    public NativeSequence fork() {
        return model.forkSequence(this);
    }

    public boolean isClosed() {
        synchronized (model) {
            return closed;
        }
    }

    @Override
    public void close() {
        model.closeSequence(this);
    }

    // --- called by NativeModel with its lock held ---

    int positionUnchecked() {
        return position;
    }

    void advance(int n) {
        position += n;
    }

    void setPosition(int p) {
        position = p;
    }

    boolean closedUnchecked() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("sequence " + id + " is closed");
        model.checkOpen();
    }

    @Override
    public String toString() {
        return "NativeSequence[" + id + (closed ? ", closed]" : ", position " + position + "]");
    }
}
