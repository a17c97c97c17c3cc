package dev.dsv32.nativ;

/**
 * A sequence of a {@link NativeModel}: one cache slot, append-only. {@link #forward(int...)} feeds it the next
 * tokens. Closing it frees the slot; closing the model closes all its sequences. {@link #close()} is idempotent; any
 * other use after close is an {@link IllegalStateException}.
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
