package dev.dsv32.encoding;

import java.util.Objects;

/**
 * Recovers what the model meant from real, possibly malformed output (encoding-failure-modes.md): missing
 * {@code </think>} or EOS, truncated DSML, marker variants, whitespace drift, JSON in string parameters, tool calls
 * inside the reasoning, unclosed parameters, undeclared tools. Never throws on any text; reports each fix as a
 * {@link Repair}. On well-formed text it returns exactly what {@link StrictParser} returns, with no repairs.
 *
 * <p>It is the {@link StreamingParser} fed the whole text at once, so streaming and whole-text parsing agree.
 */
public final class LenientParser {
    private LenientParser() {}

    public static ParseResult parse(String text, ThinkingMode mode) {
        return parse(text, mode, ParseOptions.defaults());
    }

    public static ParseResult parse(String text, ThinkingMode mode, ParseOptions options) {
        Objects.requireNonNull(text, "text");
        StreamingParser p = new StreamingParser(mode, options, false);
        p.feed(text);
        p.finish();
        return p.result();
    }
}
