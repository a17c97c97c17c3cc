package dev.dsv32.encoding;

import dev.dsv32.Dsv32Exception;

/**
 * The chat encoder rejected its input: the official {@code encode_messages} would raise on it too.
 * {@link #path()} names the offending place, e.g. {@code messages[3].tool_calls[0].function.arguments}.
 */
public class EncodingException extends Dsv32Exception {
    private static final long serialVersionUID = 1L;
    private final String path;

    public EncodingException(String path, String message) {
        super(path == null || path.isEmpty() ? message : path + ": " + message);
        this.path = path == null ? "" : path;
    }

    public EncodingException(String path, String message, Throwable cause) {
        super(path == null || path.isEmpty() ? message : path + ": " + message, cause);
        this.path = path == null ? "" : path;
    }

    /** Where in the input the problem is ({@code messages[i].field}), or empty when it concerns the whole input. */
    public String path() {
        return path;
    }
}
