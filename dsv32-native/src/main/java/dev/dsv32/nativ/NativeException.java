package dev.dsv32.nativ;

import dev.dsv32.Dsv32Exception;

/** A native call failed; the message is the engine's ({@code dsv32_last_error()}). */
public class NativeException extends Dsv32Exception {
    private static final long serialVersionUID = 1L;

    /** The {@code dsv32_status} code. */
    public enum Status {
        INVALID_ARGUMENT(1), CHECKPOINT(2), CAPACITY(3), INTERNAL(4), UNAVAILABLE(5), UNKNOWN(-1);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) return s;
            }
            return UNKNOWN;
        }
    }

    private final int code;

    public NativeException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** The raw status code the native function returned. */
    public int code() {
        return code;
    }

    public Status status() {
        return Status.of(code);
    }

    /**
     * The exception for a failed call: a {@link CheckpointException} for checkpoint errors, a
     * {@link BackendUnavailableException} when the requested backend cannot run here.
     */
    static NativeException of(int code, String what, String nativeMessage) {
        String msg = nativeMessage == null || nativeMessage.isBlank()
                ? what + " failed (" + Status.of(code).name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ", status " + code + ")"
                : nativeMessage;
        if (code == Status.CHECKPOINT.code()) return new CheckpointException(msg);
        if (code == Status.UNAVAILABLE.code()) return new BackendUnavailableException(msg);
        return new NativeException(code, msg);
    }
}
