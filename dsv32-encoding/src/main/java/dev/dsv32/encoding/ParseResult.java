package dev.dsv32.encoding;

import java.util.List;
import java.util.Objects;

/**
 * What the lenient or streaming parser recovered: an assistant {@link Message} (content, reasoning_content, tool
 * calls; ids unassigned) and the repairs it made. No repairs means the text was well-formed.
 */
public record ParseResult(Message message, List<Repair> repairs) {
    public ParseResult {
        Objects.requireNonNull(message, "message");
        repairs = List.copyOf(repairs);
    }

    public boolean repaired() {
        return !repairs.isEmpty();
    }
}
