package dev.dsv32.encoding;

import dev.dsv32.Dsv32Exception;

/**
 * The strict parser rejected a completion. {@link #reason()} is the exact assertion message of the official
 * {@code parse_message_from_completion_text} (e.g. {@code "Invalid thinking format"}); {@link #offset()} is the
 * character offset (UTF-16 index) in the completion text where the parser stood when it failed, and
 * {@link #expected()} says what it expected there.
 */
public class DsmlParseException extends Dsv32Exception {
    private static final long serialVersionUID = 1L;
    private final String reason;
    private final int offset;
    private final String expected;

    public DsmlParseException(String reason, int offset, String expected) {
        super(reason + " at offset " + offset + (expected == null || expected.isEmpty() ? "" : ": expected " + expected));
        this.reason = reason;
        this.offset = offset;
        this.expected = expected == null ? "" : expected;
    }

    /** The official error message, unchanged. */
    public String reason() {
        return reason;
    }

    /** Character offset in the completion text. */
    public int offset() {
        return offset;
    }

    /** What the parser expected at {@link #offset()}. */
    public String expected() {
        return expected;
    }
}
