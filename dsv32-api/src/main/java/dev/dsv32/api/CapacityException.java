package dev.dsv32.api;

import dev.dsv32.Dsv32Exception;

/** No sequence or KV-cache space became free for a request within the admission timeout (or the model is full). */
public class CapacityException extends Dsv32Exception {
    private static final long serialVersionUID = 1L;

    public CapacityException(String message) {
        super(message);
    }

    public CapacityException(String message, Throwable cause) {
        super(message, cause);
    }
}
