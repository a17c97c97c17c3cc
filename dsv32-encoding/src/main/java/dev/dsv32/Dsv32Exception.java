package dev.dsv32;

/**
 * Unchecked root of every exception the dsv32 SDK throws. Subclasses carry the context a caller
 * needs to locate the problem (message index and field, byte or character offset, tensor name).
 */
public class Dsv32Exception extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Dsv32Exception(String message) {
        super(message);
    }

    public Dsv32Exception(String message, Throwable cause) {
        super(message, cause);
    }
}
