package dev.dsv32.api.internal;

import dev.dsv32.api.Event;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Usage;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.StreamEvent;
import dev.dsv32.encoding.StreamingParser;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.encoding.ToolCall;
import dev.dsv32.encoding.Tokens;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The text side of one generation, shared by the local and remote runtimes: completion text arrives in deltas (special
 * tokens written out); stop strings are matched (text that may start one is held back, and a stop string is never
 * emitted); what passes goes through the {@link StreamingParser}, whose events become API {@link Event}s. Not
 * thread-safe: one thread feeds it.
 */
public final class Generation {
    private final StreamingParser parser;
    private final List<String> stops;
    private final int holdBack;
    private final Consumer<Event> sink;
    private final String callIdPrefix;
    private final boolean rawDeltas;
    private final StringBuilder raw = new StringBuilder();
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;
    private boolean finished;

    /**
     * @param sink receives events as they complete (may be null)
     * @param callIdPrefix tool call ids are this plus the call's index
     */
    public Generation(ThinkingMode mode, ParseOptions options, List<String> stops, Consumer<Event> sink, String callIdPrefix) {
        this(mode, options, stops, sink, callIdPrefix, false);
    }

    /**
     * @param rawDeltas when true, the sink receives the completion text as it is accepted, unparsed (special tokens
     *     written out, the end-of-sentence token as a delta of its own), as {@link Event.ContentDelta}s: raw
     *     completions ({@code /v1/completions}); the result is still parsed
     */
    public Generation(ThinkingMode mode, ParseOptions options, List<String> stops, Consumer<Event> sink, String callIdPrefix,
                      boolean rawDeltas) {
        this.rawDeltas = rawDeltas;
        this.parser = new StreamingParser(mode, options);
        this.stops = List.copyOf(stops);
        int max = 0;
        for (String s : stops) max = Math.max(max, s.length());
        this.holdBack = Math.max(0, max - 1);
        this.sink = sink;
        this.callIdPrefix = callIdPrefix;
    }

    /** Adds decoded completion text. Returns true when a stop string was found: generation must end (STOP_STRING). */
    public boolean onText(String delta) {
        if (stopped || finished) return stopped;
        if (delta.isEmpty()) return false;
        if (stops.isEmpty()) {
            release(delta);
            return false;
        }
        held.append(delta);
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        if (first >= 0) {
            release(held.substring(0, first));
            held.setLength(0);
            stopped = true;
            return true;
        }
        int keep = held.length() - holdBack;
        if (keep > 0) {
            if (Character.isHighSurrogate(held.charAt(keep - 1))) keep--;
            if (keep > 0) {
                release(held.substring(0, keep));
                held.delete(0, keep);
            }
        }
        return false;
    }

    /** The model wrote the end-of-sentence token. */
    public void onEos() {
        if (stopped || finished) return;
        flushHeld();
        release(Tokens.EOS);
    }

    /** The completion text accepted so far (what was released to the parser). */
    public String text() {
        return raw.toString();
    }

    /**
     * Ends the text, emits the last events (but not {@link Event.Final}) and returns the result. A {@code reason} of
     * {@link FinishReason#STOP} becomes {@link FinishReason#TOOL_CALLS} when the model called tools.
     */
    public GenerateResult finish(FinishReason reason, Usage usage, int[] tokenIds) {
        if (finished) throw new IllegalStateException("finish() called twice");
        if (!stopped) flushHeld();
        finished = true;
        emit(parser.finish());
        ParseResult pr = parser.result();
        Message m = pr.message();
        List<ToolCall> calls = new ArrayList<>(m.toolCallsOrEmpty().size());
        for (int i = 0; i < m.toolCallsOrEmpty().size(); i++) calls.add(m.toolCallsOrEmpty().get(i).withId(callIdPrefix + i));
        FinishReason r = reason == FinishReason.STOP && !calls.isEmpty() ? FinishReason.TOOL_CALLS : reason;
        return new GenerateResult(raw.toString(), m.content() == null ? "" : m.content(),
                m.reasoningContent() == null ? "" : m.reasoningContent(), calls, pr.repairs(), r, usage, tokenIds);
    }

    private void flushHeld() {
        if (held.length() > 0) {
            release(held.toString());
            held.setLength(0);
        }
    }

    private void release(String s) {
        if (s.isEmpty()) return;
        raw.append(s);
        if (rawDeltas) {
            parser.feed(s);
            if (sink != null) sink.accept(new Event.ContentDelta(s));
            return;
        }
        emit(parser.feed(s));
    }

    private void emit(List<StreamEvent> events) {
        if (sink == null || rawDeltas) return;
        for (StreamEvent e : events) {
            Event out = map(e);
            if (out != null) sink.accept(out);
        }
    }

    private Event map(StreamEvent e) {
        if (e instanceof StreamEvent.ReasoningDelta d) return new Event.ReasoningDelta(d.text());
        if (e instanceof StreamEvent.ContentDelta d) return new Event.ContentDelta(d.text());
        if (e instanceof StreamEvent.ToolCallStarted s) return new Event.ToolCallStarted(s.index(), s.name());
        if (e instanceof StreamEvent.ToolCallArgumentsDelta d) return new Event.ToolCallArgumentsDelta(d.index(), d.delta());
        if (e instanceof StreamEvent.ToolCallFinished f) return new Event.ToolCallCompleted(f.index(), f.call().withId(callIdPrefix + f.index()));
        if (e instanceof StreamEvent.ToolCallFailed f) return new Event.ToolCallFailed(f.index(), f.reason());
        return null; // Done: the runtime emits Event.Final with the whole result
    }
}
