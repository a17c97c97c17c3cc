package dev.dsv32.encoding;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.encoding.MarkerLexer.Kind;
import dev.dsv32.encoding.MarkerLexer.Marker;
import dev.dsv32.encoding.StreamEvent.ContentDelta;
import dev.dsv32.encoding.StreamEvent.ReasoningDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallArgumentsDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallFinished;
import dev.dsv32.encoding.StreamEvent.ToolCallStarted;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Incremental, lenient parser of V3.2 model output. Feed it text deltas as the decoder produces them; it returns
 * {@link StreamEvent}s. Whatever the chunk boundaries, the events' concatenated text and the tool calls are the same,
 * and no visible delta ever holds a DSML marker, a think marker or a special token, whole or partial: a suffix that
 * may start a marker (or whitespace that may precede a tool-call block) is held back until the next delta decides.
 *
 * <p>The grammar is the official one (encoding.md §6) read leniently (encoding-failure-modes.md); each deviation is
 * recorded as a {@link Repair}. On well-formed output the result equals {@link StrictParser}'s and has no repairs.
 * Not thread-safe: one instance per completion.
 *
 * <pre>{@code
 * StreamingParser p = new StreamingParser(ThinkingMode.THINKING, ParseOptions.builder().tools(tools).build());
 * for (String delta : decoder) for (StreamEvent e : p.feed(delta)) handle(e);
 * for (StreamEvent e : p.finish()) handle(e);          // ends with StreamEvent.Done
 * }</pre>
 */
public final class StreamingParser {
    private enum State { REASONING, CONTENT, TOOL_BLOCK, INVOKE, PARAM_VALUE, AFTER_TOOLS, DONE }

    private static final int MAX_DETAIL = 200;

    private final ThinkingMode mode;
    private final ParseOptions options;

    /** All text fed so far; positions are offsets into the completion. */
    private final StringBuilder buf = new StringBuilder();
    private int pos;
    private State state;
    private boolean finished;
    private ParseResult result;
    private List<StreamEvent> out = new ArrayList<>();
    /** False for whole-text parsing ({@link LenientParser}), which needs only the result. */
    private final boolean events;
    private final StringBuilder pendingText = new StringBuilder();
    private boolean pendingReasoning;

    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder content = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private final List<Repair> repairs = new ArrayList<>();

    /** Whitespace consumed between DSML tags, checked against the format's single newline at the next tag. */
    private final StringBuilder gap = new StringBuilder();

    // The invoke being read.
    private String invokeName;
    private int invokeIndex;
    private boolean invokeBare;
    private boolean invokeDropped;
    private State invokeReturn;
    private int invokeStart;
    private String bareWhitespace;
    private int bareWhitespaceAt;
    private final Map<String, String> args = new LinkedHashMap<>();
    private final StringBuilder argsText = new StringBuilder();
    private String inlineArguments;

    // The parameter being read.
    private String paramName;
    private Boolean paramString;
    private int paramStart;
    private final StringBuilder paramValue = new StringBuilder();

    public StreamingParser(ThinkingMode mode) {
        this(mode, ParseOptions.defaults());
    }

    public StreamingParser(ThinkingMode mode, ParseOptions options) {
        this(mode, options, true);
    }

    StreamingParser(ThinkingMode mode, ParseOptions options, boolean events) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.options = Objects.requireNonNull(options, "options");
        this.events = events;
        this.state = mode == ThinkingMode.THINKING ? State.REASONING : State.CONTENT;
    }

    /** Feeds the next piece of decoded text; returns the events it completes (possibly none). */
    public List<StreamEvent> feed(CharSequence delta) {
        Objects.requireNonNull(delta, "delta");
        if (finished) throw new IllegalStateException("feed() after finish()");
        buf.append(delta);
        run(false);
        return drain();
    }

    /** Ends the completion: flushes what was held back and returns the last events, ending with {@link StreamEvent.Done}. */
    public List<StreamEvent> finish() {
        if (finished) throw new IllegalStateException("finish() called twice");
        run(true);
        endOfText();
        finished = true;
        Message message = new Message(Role.ASSISTANT, content.toString(),
                mode == ThinkingMode.THINKING ? reasoning.toString() : "", calls, null, null, null, null);
        result = new ParseResult(message, repairs);
        if (events) emit(new StreamEvent.Done(result));
        return drain();
    }

    /** The whole result; available after {@link #finish()}. */
    public ParseResult result() {
        if (result == null) throw new IllegalStateException("finish() not called yet");
        return result;
    }

    private List<StreamEvent> drain() {
        flushText();
        if (out.isEmpty()) return List.of();
        List<StreamEvent> drained = out;
        out = new ArrayList<>();
        return drained;
    }

    private void run(boolean eof) {
        while (step(eof)) {
            // each step consumes input or changes state
        }
    }

    private boolean step(boolean eof) {
        switch (state) {
            case REASONING:
            case CONTENT:
                return textStep(eof);
            case TOOL_BLOCK:
                return toolBlockStep(eof);
            case INVOKE:
                return invokeStep(eof);
            case PARAM_VALUE:
                return paramStep(eof);
            case AFTER_TOOLS:
                return afterToolsStep(eof);
            case DONE:
            default:
                return false;
        }
    }

    // ---------------------------------------------------------------- reasoning and content

    private boolean textStep(boolean eof) {
        int end = buf.length();
        if (pos >= end) return false;
        int lt = buf.indexOf("<", pos);
        if (lt < 0) {
            // Hold back trailing whitespace: it may be the "\n\n" before a tool-call block.
            int k = eof ? end : trailingWhitespaceStart(pos, end);
            if (k == pos) return false;
            emitText(buf.substring(pos, k));
            pos = k;
            return true;
        }
        int k = trailingWhitespaceStart(pos, lt);
        if (k > pos) {
            emitText(buf.substring(pos, k));
            pos = k;
            return true;
        }
        Marker m = MarkerLexer.match(buf, lt, end, eof, false);
        if (m == MarkerLexer.NEED_MORE) return false;
        String ws = buf.substring(pos, lt);
        if (m == MarkerLexer.NONE) {
            if (eof && truncatedMarkerAt(lt, false)) {
                emitText(ws);
                repair(Repair.Kind.TRUNCATED_MARKER, "removed partial marker " + show(buf.substring(lt)), lt);
                pos = end;
                return true;
            }
            emitText(ws + "<");
            pos = lt + 1;
            return true;
        }
        pos = lt + m.length;
        switch (m.kind) {
            case THINK_END:
                emitText(ws);
                if (state == State.REASONING) {
                    state = State.CONTENT;
                } else {
                    repair(Repair.Kind.STRAY_THINK_TOKEN, "removed </think> from the content", lt);
                }
                break;
            case THINK_START:
                emitText(ws);
                if (state == State.REASONING && lt == 0) {
                    repair(Repair.Kind.ECHOED_THINK_START, "removed the <think> the model repeated from the prompt", lt);
                } else {
                    repair(Repair.Kind.STRAY_THINK_TOKEN, "removed <think> from the " + (state == State.REASONING ? "reasoning" : "content"), lt);
                }
                break;
            case EOS:
                emitText(ws);
                if (state == State.REASONING) {
                    repair(Repair.Kind.MISSING_THINK_END, "<｜end▁of▁sentence｜> before </think>: the whole output is reasoning", lt);
                }
                state = State.DONE;
                break;
            case SPECIAL:
                emitText(ws);
                repair(Repair.Kind.SPECIAL_TOKEN_REMOVED, "removed " + m.text, lt);
                break;
            case BLOCK_OPEN:
                toolsStartAfter(ws, lt);
                if (m.variant) repair(Repair.Kind.MARKER_VARIANT, "tool-call block opened with " + show(m.text), lt);
                state = State.TOOL_BLOCK;
                gap.setLength(0);
                break;
            case INVOKE_OPEN:
                // An invoke without the function_calls wrapper: recovered only if it closes (and names a declared tool).
                bareWhitespace = ws;
                bareWhitespaceAt = lt - ws.length();
                startInvoke(m, lt, true, state);
                state = State.INVOKE;
                break;
            default:
                emitText(ws);
                repair(Repair.Kind.STRAY_TAG, "removed " + show(m.text) + " outside a tool-call block", lt);
        }
        return true;
    }

    /** Ends reasoning or content where a tool-call block starts; the format puts exactly "\n\n" before it. */
    private void toolsStartAfter(String ws, int markerAt) {
        if (state == State.REASONING) {
            repair(Repair.Kind.TOOL_CALLS_IN_REASONING, "tool calls began before </think>; the reasoning ends there", markerAt);
        }
        if (ws.endsWith("\n\n")) {
            emitText(ws.substring(0, ws.length() - 2));
        } else {
            repair(Repair.Kind.TOOL_CALLS_SPACING, "expected \"\\n\\n\" before the tool calls, found " + show(ws), markerAt - ws.length());
        }
        if (state == State.REASONING) state = State.CONTENT;
    }

    // ---------------------------------------------------------------- inside <function_calls>

    private boolean toolBlockStep(boolean eof) {
        skipWhitespaceIntoGap();
        int end = buf.length();
        if (pos >= end) return false;
        if (buf.charAt(pos) != '<') return junkToContent(eof, Repair.Kind.TEXT_IN_TOOL_BLOCK);
        Marker m = MarkerLexer.match(buf, pos, end, eof, true);
        if (m == MarkerLexer.NEED_MORE) return false;
        if (m == MarkerLexer.NONE) return junkToContent(eof, Repair.Kind.TEXT_IN_TOOL_BLOCK);
        int at = pos;
        pos += m.length;
        switch (m.kind) {
            case INVOKE_OPEN:
                checkGap(at, false);
                startInvoke(m, at, false, State.TOOL_BLOCK);
                state = State.INVOKE;
                break;
            case BLOCK_CLOSE:
                checkGap(at, false);
                variantRepair(m, at);
                state = State.AFTER_TOOLS;
                break;
            case EOS:
                gap.setLength(0);
                repair(Repair.Kind.UNCLOSED_TOOL_CALLS, "<｜end▁of▁sentence｜> inside the tool-call block", at);
                state = State.DONE;
                break;
            default:
                gap.setLength(0);
                strayTag(m, at);
        }
        return true;
    }

    // ---------------------------------------------------------------- inside <invoke>

    private boolean invokeStep(boolean eof) {
        skipWhitespaceIntoGap();
        int end = buf.length();
        if (pos >= end) return false;
        char c = buf.charAt(pos);
        if (c == '{' && args.isEmpty() && inlineArguments == null) return inlineJsonBody(eof);
        if (c != '<') return ignoreInInvoke(eof);
        Marker m = MarkerLexer.match(buf, pos, end, eof, true);
        if (m == MarkerLexer.NEED_MORE) return false;
        if (m == MarkerLexer.NONE) return ignoreInInvoke(eof);
        int at = pos;
        switch (m.kind) {
            case PARAM_OPEN:
                pos += m.length;
                checkGap(at, false);
                variantRepair(m, at);
                paramName = m.name;
                paramString = m.string;
                paramStart = at;
                paramValue.setLength(0);
                state = State.PARAM_VALUE;
                break;
            case INVOKE_CLOSE:
                pos += m.length;
                if (inlineArguments == null) checkGap(at, args.isEmpty());
                else gap.setLength(0);
                variantRepair(m, at);
                finishInvoke(true, at);
                break;
            case BLOCK_CLOSE:
                pos += m.length;
                gap.setLength(0);
                repair(Repair.Kind.UNCLOSED_INVOKE, "invoke of " + invokeName + " not closed before the end of the block", at);
                boolean bare = invokeBare;
                finishInvoke(false, at);
                if (!bare) state = State.AFTER_TOOLS;
                break;
            case INVOKE_OPEN:
                gap.setLength(0);
                repair(Repair.Kind.UNCLOSED_INVOKE, "invoke of " + invokeName + " not closed before the next invoke", at);
                State back = invokeReturn;
                boolean wasBare = invokeBare;
                finishInvoke(false, at);
                if (!wasBare) {
                    pos += m.length;
                    startInvoke(m, at, false, back);
                    state = State.INVOKE;
                }
                // A bare invoke reverted to text: the new tag is read again in the text state.
                break;
            case EOS: {
                pos += m.length;
                gap.setLength(0);
                repair(Repair.Kind.UNCLOSED_INVOKE, "<｜end▁of▁sentence｜> inside the invoke of " + invokeName, at);
                boolean bareInvoke = invokeBare;
                boolean wrapped = !invokeBare && invokeReturn == State.TOOL_BLOCK;
                finishInvoke(false, at);
                if (wrapped) repair(Repair.Kind.UNCLOSED_TOOL_CALLS, "tool-call block not closed", at);
                if (!bareInvoke) state = State.DONE; // a reverted bare invoke re-reads the EOS as text
                break;
            }
            default:
                pos += m.length;
                gap.setLength(0);
                strayTag(m, at);
        }
        return true;
    }

    private void startInvoke(Marker m, int at, boolean bare, State returnTo) {
        invokeName = m.name;
        invokeBare = bare;
        invokeReturn = returnTo;
        invokeStart = at;
        invokeDropped = !bare && calls.size() >= options.maxToolCalls();
        invokeIndex = calls.size();
        args.clear();
        argsText.setLength(0);
        inlineArguments = null;
        gap.setLength(0);
        if (bare) return; // decided when it closes
        if (invokeDropped) {
            repair(Repair.Kind.TOO_MANY_TOOL_CALLS, "dropped call of " + m.name + " beyond " + options.maxToolCalls() + " calls", at);
            return;
        }
        variantRepair(m, at);
        if (options.toolsDeclared() && !options.isDeclared(m.name)) {
            repair(Repair.Kind.UNDECLARED_TOOL, "call of undeclared tool " + show(m.name), at);
        }
        emit(new ToolCallStarted(invokeIndex, invokeName));
    }

    /** An invoke whose body is a JSON object instead of parameter tags. */
    private boolean inlineJsonBody(boolean eof) {
        int end = buf.length();
        int close = -1;
        for (int q = buf.indexOf("<", pos); q >= 0; q = buf.indexOf("<", q + 1)) {
            Marker m = MarkerLexer.match(buf, q, end, eof, true);
            if (m == MarkerLexer.NEED_MORE) return false;
            if (m != MarkerLexer.NONE && (m.kind == Kind.INVOKE_CLOSE || m.kind == Kind.BLOCK_CLOSE || m.kind == Kind.EOS
                    || m.kind == Kind.INVOKE_OPEN)) {
                close = q;
                break;
            }
        }
        if (close < 0) {
            if (!eof) return false;
            close = end;
        }
        String body = trimTrailingWhitespace(buf.substring(pos, close));
        JsonNode json = PythonJson.tryLoads(body);
        if (json != null && json.isObject()) {
            inlineArguments = body;
            repair(Repair.Kind.INLINE_JSON_ARGUMENTS, "invoke body given as a JSON object", pos);
        } else {
            inlineArguments = "";
            repair(Repair.Kind.INVALID_INVOKE, "call of " + invokeName + " dropped: its body is neither parameters nor a JSON"
                    + " object: " + PythonJson.quote(body), pos);
        }
        pos = close;
        return true;
    }

    private boolean ignoreInInvoke(boolean eof) {
        int next = nextLessThan(pos + 1);
        if (next < 0) {
            if (!eof) return false;
            next = buf.length();
        }
        String text = buf.substring(pos, next);
        repair(Repair.Kind.IGNORED_TEXT, "ignored text inside the invoke of " + invokeName + ": " + show(text), pos);
        pos = next;
        gap.setLength(0);
        return true;
    }

    private void finishInvoke(boolean closed, int at) {
        State back = invokeReturn;
        if (invokeBare) {
            boolean accept = closed && (!options.toolsDeclared() || options.isDeclared(invokeName))
                    && calls.size() < options.maxToolCalls() && !"".equals(inlineArguments);
            state = back;
            if (!accept) {
                // Keep the text as it was: the model may be quoting markup (encoding-failure-modes.md §1 counter-view).
                repair(Repair.Kind.BARE_INVOKE_KEPT_AS_CONTENT, (closed ? "unwrapped invoke of undeclared tool " : "unwrapped invoke never closed: ")
                        + show(invokeName) + " kept as text", invokeStart);
                emitText(bareWhitespace + buf.substring(invokeStart, closed ? pos : at));
                if (!closed) pos = at;
                return;
            }
            toolsStartAfter(bareWhitespace, invokeStart);
            state = back == State.REASONING ? State.CONTENT : back;
            repair(Repair.Kind.MISSING_WRAPPER, "invoke of " + invokeName + " without <｜DSML｜function_calls>", invokeStart);
            emit(new ToolCallStarted(invokeIndex, invokeName));
        } else {
            state = back;
        }
        if (invokeDropped) return;
        if ("".equals(inlineArguments)) {
            // Fail closed: never turn an unreadable body into an executable "{}" call (encoding-failure-modes.md §5).
            emit(new StreamEvent.ToolCallFailed(invokeIndex, "invoke body of " + invokeName + " could not be read"));
            return;
        }
        String arguments;
        if (inlineArguments != null) {
            arguments = inlineArguments;
            emit(new ToolCallArgumentsDelta(invokeIndex, arguments));
        } else {
            String tail = args.isEmpty() ? "{}" : "}";
            if (invokeBare && !args.isEmpty()) emit(new ToolCallArgumentsDelta(invokeIndex, argsText.toString()));
            argsText.append(tail);
            arguments = argsText.toString();
            emit(new ToolCallArgumentsDelta(invokeIndex, tail));
        }
        ToolCall call = ToolCall.of(invokeName, arguments);
        calls.add(call);
        emit(new ToolCallFinished(invokeIndex, call));
    }

    // ---------------------------------------------------------------- parameter values

    private boolean paramStep(boolean eof) {
        int end = buf.length();
        int q = buf.indexOf("<", pos);
        while (q >= 0) {
            Marker m = MarkerLexer.match(buf, q, end, eof, true);
            if (m == MarkerLexer.NEED_MORE) {
                boolean progressed = q > pos;
                paramValue.append(buf, pos, q);
                pos = q;
                return progressed;
            }
            if (m != MarkerLexer.NONE) {
                if (m.kind == Kind.PARAM_CLOSE) {
                    paramValue.append(buf, pos, q);
                    pos = q + m.length;
                    variantRepair(m, q);
                    closeParameter();
                    state = State.INVOKE;
                    gap.setLength(0);
                    return true;
                }
                if (m.kind == Kind.INVOKE_CLOSE || m.kind == Kind.BLOCK_CLOSE || m.kind == Kind.PARAM_OPEN || m.kind == Kind.INVOKE_OPEN) {
                    paramValue.append(buf, pos, q);
                    pos = q;
                    repair(Repair.Kind.UNCLOSED_PARAMETER, "parameter " + show(paramName) + " not closed before " + show(m.text), q);
                    closeParameter();
                    state = State.INVOKE;
                    gap.setLength(0);
                    gap.append('\n'); // the missing closer's newline; the next tag's spacing is not at fault
                    return true;
                }
            }
            q = buf.indexOf("<", q + 1);
        }
        if (pos == end) return false;
        paramValue.append(buf, pos, end);
        pos = end;
        return true;
    }

    /** Turns the parameter into its JSON text (strict: string="true" quoted, otherwise verbatim) with type repairs. */
    private void closeParameter() {
        String key = paramName;
        String raw = paramValue.toString();
        JsonNode declared = options.parameterType(invokeName, key);
        String json;
        if (Boolean.TRUE.equals(paramString)) {
            String coerced = declared != null && !allowsType(declared, "string") ? jsonMatchingSchema(raw, declared) : null;
            if (coerced != null) {
                json = coerced;
                repair(Repair.Kind.COERCED_BY_SCHEMA, "parameter " + show(key) + " of " + invokeName + " read as " + declared, paramStart);
            } else {
                json = PythonJson.quote(raw);
            }
        } else if (Boolean.FALSE.equals(paramString)) {
            JsonNode v = PythonJson.tryLoads(raw);
            if (v != null) {
                json = raw;
            } else if (declared != null && allowsType(declared, "string")) {
                json = PythonJson.quote(raw);
                repair(Repair.Kind.COERCED_BY_SCHEMA, "parameter " + show(key) + " string=\"false\" but not JSON; the schema says string", paramStart);
            } else {
                json = PythonJson.quote(raw);
                repair(Repair.Kind.NON_JSON_VALUE, "parameter " + show(key) + " string=\"false\" is not JSON: " + show(raw) + "; kept as a string", paramStart);
            }
        } else {
            String typed = declared != null && allowsType(declared, "string") ? null : jsonMatchingSchema(raw, declared);
            json = typed != null ? typed : PythonJson.quote(raw);
            repair(Repair.Kind.MISSING_STRING_ATTRIBUTE, "parameter " + show(key) + " without string=…; read as "
                    + (typed != null ? "JSON" : "a string"), paramStart);
        }
        if (args.containsKey(key)) {
            repair(Repair.Kind.DUPLICATE_PARAMETER, "parameter " + show(key) + " repeated in " + invokeName + "; the first value is kept", paramStart);
            return;
        }
        args.put(key, json);
        String fragment = (argsText.length() == 0 ? "{" : ", ") + PythonJson.quote(key) + ": " + json;
        argsText.append(fragment);
        if (!invokeBare && !invokeDropped) emit(new ToolCallArgumentsDelta(invokeIndex, fragment));
    }

    private static boolean allowsType(JsonNode declared, String type) {
        if (declared.isTextual()) return declared.textValue().equals(type);
        if (declared.isArray()) {
            for (JsonNode t : declared) if (t.isTextual() && t.textValue().equals(type)) return true;
        }
        return false;
    }

    /** The trimmed value if it is JSON whose type the schema allows (or any non-string JSON when there is no schema). */
    private static String jsonMatchingSchema(String raw, JsonNode declared) {
        String t = raw.strip();
        JsonNode v = PythonJson.tryLoads(t);
        if (v == null || v.isTextual()) return null;
        if (declared == null) return t;
        String type = v.isObject() ? "object" : v.isArray() ? "array" : v.isBoolean() ? "boolean" : v.isNull() ? "null"
                : v.isIntegralNumber() ? "integer" : "number";
        if (allowsType(declared, type) || (type.equals("integer") && allowsType(declared, "number"))) return t;
        return null;
    }

    // ---------------------------------------------------------------- after </function_calls>

    private boolean afterToolsStep(boolean eof) {
        int end = buf.length();
        int k = pos;
        while (k < end && isWhitespace(buf.charAt(k))) k++;
        if (k >= end) {
            if (!eof || k == pos) return false;
            repair(Repair.Kind.TEXT_AFTER_TOOL_CALLS, "whitespace after the tool calls ignored: " + show(buf.substring(pos, k)), pos);
            pos = k;
            return true;
        }
        Marker m = buf.charAt(k) == '<' ? MarkerLexer.match(buf, k, end, eof, false) : MarkerLexer.NONE;
        if (m == MarkerLexer.NEED_MORE) return false;
        if (m == MarkerLexer.NONE || m.kind == Kind.INVOKE_OPEN) {
            repair(Repair.Kind.TEXT_AFTER_TOOL_CALLS, "text after the tool calls kept as content", k);
            state = State.CONTENT;
            return true;
        }
        if (k > pos) repair(Repair.Kind.TEXT_AFTER_TOOL_CALLS, "whitespace after the tool calls ignored: " + show(buf.substring(pos, k)), pos);
        pos = k + m.length;
        switch (m.kind) {
            case EOS:
                state = State.DONE;
                break;
            case BLOCK_OPEN:
                repair(Repair.Kind.MULTIPLE_TOOL_CALL_BLOCKS, "a second tool-call block", k);
                variantRepair(m, k);
                gap.setLength(0);
                state = State.TOOL_BLOCK;
                break;
            default:
                strayTag(m, k);
        }
        return true;
    }

    // ---------------------------------------------------------------- end of text

    private void endOfText() {
        int end = buf.length();
        switch (state) {
            case REASONING:
                repair(Repair.Kind.MISSING_THINK_END, "output ended before </think>: the whole output is reasoning", end);
                break;
            case CONTENT:
                repair(Repair.Kind.MISSING_EOS, "output ended without <｜end▁of▁sentence｜>", end);
                break;
            case TOOL_BLOCK:
                repair(Repair.Kind.UNCLOSED_TOOL_CALLS, "output ended inside the tool-call block", end);
                break;
            case PARAM_VALUE: {
                String v = paramValue.toString();
                int eos = v.lastIndexOf(Tokens.EOS);
                if (eos >= 0 && v.substring(eos + Tokens.EOS.length()).isBlank()) paramValue.setLength(eos);
                repair(Repair.Kind.UNCLOSED_PARAMETER, "output ended inside parameter " + show(paramName), end);
                closeParameter();
                state = State.INVOKE;
            }
            // fall through: the invoke is unclosed too
            case INVOKE: {
                repair(Repair.Kind.UNCLOSED_INVOKE, "output ended inside the invoke of " + invokeName, end);
                boolean wrapped = !invokeBare && invokeReturn == State.TOOL_BLOCK;
                finishInvoke(false, end);
                if (wrapped) repair(Repair.Kind.UNCLOSED_TOOL_CALLS, "output ended inside the tool-call block", end);
                if (state == State.REASONING || state == State.CONTENT) {
                    // A reverted bare invoke: its text was emitted; the rest (if any) was already consumed.
                    run(true);
                    if (state != State.DONE) endOfTextAfterRevert();
                }
                break;
            }
            case DONE:
                if (pos < end) {
                    repair(Repair.Kind.TEXT_AFTER_EOS, "ignored text after <｜end▁of▁sentence｜>: " + show(buf.substring(pos)), pos);
                    pos = end;
                }
                break;
            case AFTER_TOOLS:
            default:
                break;
        }
    }

    private void endOfTextAfterRevert() {
        if (state == State.REASONING) {
            repair(Repair.Kind.MISSING_THINK_END, "output ended before </think>: the whole output is reasoning", buf.length());
        } else if (state == State.CONTENT) {
            repair(Repair.Kind.MISSING_EOS, "output ended without <｜end▁of▁sentence｜>", buf.length());
        }
    }

    // ---------------------------------------------------------------- helpers

    private void emitText(String s) {
        if (s.isEmpty()) return;
        boolean toReasoning = state == State.REASONING;
        (toReasoning ? reasoning : content).append(s);
        if (!events) return;
        if (pendingText.length() > 0 && pendingReasoning != toReasoning) flushText();
        pendingReasoning = toReasoning;
        pendingText.append(s);
    }

    /** Adds a non-text event after the text that precedes it. */
    private void emit(StreamEvent e) {
        if (!events) return;
        flushText();
        out.add(e);
    }

    private void flushText() {
        if (pendingText.length() == 0) return;
        String t = pendingText.toString();
        pendingText.setLength(0);
        out.add(pendingReasoning ? new ReasoningDelta(t) : new ContentDelta(t));
    }

    /** Text that is not DSML inside a tool-call block: kept as content, up to the next '<'. */
    private boolean junkToContent(boolean eof, String kind) {
        int next = nextLessThan(pos + 1);
        if (next < 0) {
            if (!eof) return false;
            next = buf.length();
        }
        String text = buf.substring(pos, next);
        repair(kind, "text inside the tool-call block moved to the content: " + show(text), pos);
        State saved = state;
        state = State.CONTENT;
        emitText(gap + text);
        state = saved;
        gap.setLength(0);
        pos = next;
        return true;
    }

    /** [noLtFrom, noLtTo) is known to hold no '<': text waiting for its '<' is not scanned again on every delta. */
    private int noLtFrom;
    private int noLtTo;

    /** Index of the next '<' at or after {@code from}, or -1. */
    private int nextLessThan(int from) {
        int start = from >= noLtFrom && from <= noLtTo ? noLtTo : from;
        int i = buf.indexOf("<", start);
        if (i < 0) {
            if (start != noLtTo) noLtFrom = from;
            noLtTo = buf.length();
        }
        return i;
    }

    private void skipWhitespaceIntoGap() {
        int end = buf.length();
        while (pos < end && isWhitespace(buf.charAt(pos))) gap.append(buf.charAt(pos++));
    }

    /** The format puts exactly one newline between DSML tags (two before a zero-parameter invoke's closer are fine). */
    private void checkGap(int at, boolean zeroParamClose) {
        String g = gap.toString();
        gap.setLength(0);
        if (g.equals("\n") || (zeroParamClose && g.equals("\n\n"))) return;
        repair(Repair.Kind.TAG_SPACING, "expected \"\\n\" between DSML tags, found " + show(g), at - g.length());
    }

    private void variantRepair(Marker m, int at) {
        if (m.variant) repair(Repair.Kind.MARKER_VARIANT, "non-canonical tag " + show(m.text), at);
    }

    private void strayTag(Marker m, int at) {
        switch (m.kind) {
            case THINK_START:
            case THINK_END:
                repair(Repair.Kind.STRAY_THINK_TOKEN, "removed " + m.text + " inside the tool calls", at);
                break;
            case SPECIAL:
                repair(Repair.Kind.SPECIAL_TOKEN_REMOVED, "removed " + m.text, at);
                break;
            default:
                repair(Repair.Kind.STRAY_TAG, "removed out-of-place " + show(m.text), at);
        }
    }

    /** At the end of text: is s[lt..] a cut-off marker (at least "<" plus one char of one)? */
    private boolean truncatedMarkerAt(int lt, boolean plainTags) {
        return buf.length() - lt >= 2 && MarkerLexer.match(buf, lt, buf.length(), false, plainTags) == MarkerLexer.NEED_MORE;
    }

    private void repair(String kind, String detail, int offset) {
        repairs.add(new Repair(kind, detail, offset));
    }

    private int trailingWhitespaceStart(int from, int to) {
        int k = to;
        while (k > from && isWhitespace(buf.charAt(k - 1))) k--;
        return k;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    private static String trimTrailingWhitespace(String s) {
        int e = s.length();
        while (e > 0 && isWhitespace(s.charAt(e - 1))) e--;
        return s.substring(0, e);
    }

    private static String show(String s) {
        String q = PythonJson.quote(s);
        return q.length() > MAX_DETAIL ? q.substring(0, MAX_DETAIL) + "…\"" : q;
    }
}
