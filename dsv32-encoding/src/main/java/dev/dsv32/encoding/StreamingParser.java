package dev.dsv32.encoding;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Incremental lenient parser (work in progress: API fixed, implementation being written). */
public final class StreamingParser {
    private final ThinkingMode mode;
    private final ParseOptions options;
    private final StringBuilder all = new StringBuilder();
    private ParseResult result;

    public StreamingParser(ThinkingMode mode) {
        this(mode, ParseOptions.defaults());
    }

    public StreamingParser(ThinkingMode mode, ParseOptions options) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.options = Objects.requireNonNull(options, "options");
    }

    public List<StreamEvent> feed(CharSequence delta) {
        all.append(delta);
        return List.of();
    }

    public List<StreamEvent> finish() {
        Message m;
        try {
            m = StrictParser.parse(all.toString(), mode);
        } catch (DsmlParseException e) {
            m = new Message(Role.ASSISTANT, all.toString(), "", List.of(), null, null, null, null);
        }
        result = new ParseResult(m, new ArrayList<>());
        return List.of(new StreamEvent.Done(result));
    }

    public ParseResult result() {
        if (result == null) throw new IllegalStateException("finish() not called yet");
        return result;
    }
}
