package dev.dsv32.nativ;

/** The checkpoint is missing, unreadable or inconsistent; the message names the file and, where it applies, the tensor. */
public class CheckpointException extends NativeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(NativeException.Status.CHECKPOINT.code(), message);
    }
}
