package dev.dsv32.encoding;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The official {@code parse_message_from_completion_text} (encoding.md §6), with the same accepted language and the
 * same failure messages, as a {@link DsmlParseException} that also gives the offset and what was expected there.
 * Like the official code it handles well-formed output only; use {@link LenientParser} for real model output.
 *
 * <p>Input is the generated text only (after the prompt's {@code <think>}), including the final EOS if the model
 * produced it. Stateless and thread-safe.
 */
public final class StrictParser {
    private StrictParser() {}

    private static final String INVOKE_START = "<" + Tokens.DSML + "invoke";
    private static final String INVOKE_END = "</" + Tokens.DSML + "invoke";
    private static final String PARAM_START = "<" + Tokens.DSML + "parameter";
    private static final String PARAM_END = "/" + Tokens.DSML + "parameter";
    private static final String BLOCK_END = Tokens.FUNCTION_CALLS_CLOSE;
    private static final String[] SPECIAL_IN_CONTENT = {Tokens.BOS, Tokens.EOS, Tokens.THINK_START, Tokens.THINK_END, Tokens.DSML};

    /** Result of {@code _read_until_stop}: next index, the text before the stop, and the stop found (or null). */
    private record Read(int next, String text, String stop, int stopAt) {}

    /**
     * {@code _read_until_stop} over one completion: the earliest occurrence of any stop at or after {@code index} (the
     * first listed stop wins a tie). Each stop's last found position is remembered: the parser only moves forward, so a
     * position still ahead of {@code index} is still the first occurrence, and "not found" stays true. Every search
     * therefore starts where the previous one for that stop left off, and a whole parse stays linear in the text
     * (re-searching the block end for every invoke would make many tool calls quadratic).
     */
    private static final class Cursor {
        private static final int UNKNOWN = -2;
        private static final int ABSENT = -1;
        final String text;
        private final java.util.IdentityHashMap<String, int[]> found = new java.util.IdentityHashMap<>();

        Cursor(String text) {
            this.text = text;
        }

        Read read(int index, String... stops) {
            int n = text.length();
            int minPos = n;
            String matched = null;
            for (String s : stops) {
                int[] memo = found.computeIfAbsent(s, k -> new int[] {UNKNOWN, 0});
                int pos = memo[0];
                if (pos == UNKNOWN || (pos >= 0 && pos < index) || (pos == ABSENT && memo[1] > index)) {
                    pos = text.indexOf(s, index);
                    memo[0] = pos < 0 ? ABSENT : pos;
                    memo[1] = index;
                }
                if (pos >= 0 && pos < minPos) {
                    minPos = pos;
                    matched = s;
                }
            }
            if (matched != null) return new Read(minPos + matched.length(), text.substring(index, minPos), matched, minPos);
            return new Read(n, text.substring(Math.min(index, n)), null, n);
        }
    }

    /** Parses a completion; the result has role, content, reasoning_content ("" in chat mode) and tool_calls. */
    public static Message parse(String text, ThinkingMode mode) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(mode, "mode");
        Cursor cur = new Cursor(text);
        String reasoning = "";
        int index = 0;
        int contentStart = 0;
        Read r;
        if (mode == ThinkingMode.THINKING) {
            r = cur.read(index, Tokens.THINK_END, Tokens.TOOL_CALLS_START);
            reasoning = r.text();
            if (!Tokens.THINK_END.equals(r.stop())) {
                throw new DsmlParseException("Invalid thinking format", r.stopAt(),
                        r.stop() == null ? "</think> to end the reasoning" : "</think> before the tool calls");
            }
            index = r.next();
            contentStart = index;
        }
        r = cur.read(index, Tokens.EOS, Tokens.TOOL_CALLS_START);
        String content = r.text();
        index = r.next();
        String stop = r.stop();
        List<ToolCall> toolCalls = new ArrayList<>();
        if (Tokens.TOOL_CALLS_START.equals(stop)) {
            Read calls = parseToolCalls(cur, index, toolCalls);
            index = calls.next();
            Read tail = cur.read(index, Tokens.EOS);
            if (!tail.text().isEmpty()) {
                throw new DsmlParseException("Unexpected content after tool calls", index,
                        "<｜end▁of▁sentence｜> or the end of the text right after the tool calls");
            }
            index = tail.next();
            stop = tail.stop();
        } else if (!Tokens.EOS.equals(stop)) {
            throw new DsmlParseException("Invalid summary format", text.length(), "<｜end▁of▁sentence｜> after the content");
        }
        if (index != text.length() || !(stop == null || Tokens.EOS.equals(stop))) {
            throw new DsmlParseException("Unexpected content at end", index, "the end of the text after <｜end▁of▁sentence｜>");
        }
        for (String sp : SPECIAL_IN_CONTENT) {
            int inContent = content.indexOf(sp);
            int inReasoning = reasoning.indexOf(sp);
            if (inContent >= 0 || inReasoning >= 0) {
                int offset = inReasoning >= 0 ? inReasoning : contentStart + inContent;
                throw new DsmlParseException("Unexpected special token in content", offset,
                        "no " + sp + " inside the reasoning or the content");
            }
        }
        return new Message(Role.ASSISTANT, content, reasoning, toolCalls, null, null, null, null);
    }

    /** {@code parse_tool_calls}: returns the index reached (and the last stop seen). */
    private static Read parseToolCalls(Cursor cur, int index, List<ToolCall> out) {
        String text = cur.text;
        String stop = null;
        while (index < text.length()) {
            Read gap = cur.read(index, INVOKE_START, BLOCK_END);
            if (!">\n".equals(gap.text())) {
                throw new DsmlParseException("Tool call format error", index, "\">\\n\" then <｜DSML｜invoke or </｜DSML｜function_calls>");
            }
            index = gap.next();
            stop = gap.stop();
            if (BLOCK_END.equals(stop)) break;
            if (stop == null) {
                throw new DsmlParseException("Missing special token", index, "<｜DSML｜invoke or </｜DSML｜function_calls>");
            }
            int headAt = index;
            Read head = cur.read(index, PARAM_START, INVOKE_END);
            index = head.next();
            stop = head.stop();
            String name = matchInvokeHead(head.text());
            if (name == null) {
                throw new DsmlParseException("Tool name format error", headAt, "name=\"…\">\\n after <｜DSML｜invoke");
            }
            Map<String, String[]> args = new LinkedHashMap<>();
            while (PARAM_START.equals(stop)) {
                int paramAt = index;
                Read p = cur.read(index, PARAM_END);
                index = p.next();
                stop = p.stop();
                String[] kv = matchParameter(p.text());
                if (kv == null) {
                    throw new DsmlParseException("Parameter format error", paramAt,
                            " name=\"…\" string=\"true|false\">value</｜DSML｜parameter>");
                }
                if (args.containsKey(kv[0])) {
                    throw new DsmlParseException("Duplicate parameter name", paramAt, "a parameter name not used before in this invoke");
                }
                args.put(kv[0], new String[] {kv[2], kv[1]});
                int gapAt = index;
                Read g = cur.read(index, PARAM_START, INVOKE_END);
                index = g.next();
                stop = g.stop();
                if (!">\n".equals(g.text())) {
                    throw new DsmlParseException("Parameter format error", gapAt, "\">\\n\" after </｜DSML｜parameter");
                }
            }
            out.add(ToolCall.of(name, decodeArguments(args)));
        }
        return new Read(index, "", stop, index);
    }

    /** {@code decode_dsml_to_arguments}: string="true" values are JSON-quoted, others pasted verbatim (never validated). */
    static String decodeArguments(Map<String, String[]> args) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String[]> e : args.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            PythonJson.writeString(e.getKey(), sb);
            sb.append(": ");
            String value = e.getValue()[0];
            if ("true".equals(e.getValue()[1])) PythonJson.writeString(value, sb);
            else sb.append(value);
        }
        return sb.append('}').toString();
    }

    /**
     * Python {@code re.findall(r'^\s*name="(.*?)">\n$', s, re.DOTALL)} with exactly one match: leading Unicode
     * whitespace, {@code name="}, then the shortest name such that the rest is {@code ">\n"} or {@code ">\n\n"} ({@code $}
     * also matches before one final newline).
     */
    static String matchInvokeHead(String s) {
        int i = 0;
        while (i < s.length() && isPythonSpace(s.charAt(i))) i++;
        if (!s.startsWith("name=\"", i)) return null;
        int nameStart = i + 6;
        // The rest after the name must be ">\n" or ">\n\n"; at most one of the two fits, so the name is fixed.
        int end;
        if (s.endsWith("\">\n")) end = s.length() - 3;
        else if (s.endsWith("\">\n\n")) end = s.length() - 4;
        else return null;
        return end >= nameStart ? s.substring(nameStart, end) : null;
    }

    /**
     * Python {@code re.findall(r'^ name="(.*?)" string="(true|false)">(.*?)<$', s, re.DOTALL)}: returns
     * {name, string, value} or null.
     */
    static String[] matchParameter(String s) {
        if (!s.startsWith(" name=\"")) return null;
        int bodyEnd;
        if (s.endsWith("<")) bodyEnd = s.length() - 1;
        else if (s.endsWith("<\n")) bodyEnd = s.length() - 2;
        else return null;
        // name is the shortest prefix followed by '" string="true|false">' (within the body).
        String sep = "\" string=\"";
        for (int q = s.indexOf(sep, 7); q >= 0 && q + sep.length() <= bodyEnd; q = s.indexOf(sep, q + 1)) {
            int flagAt = q + sep.length();
            String flag = s.startsWith("true\">", flagAt) ? "true" : s.startsWith("false\">", flagAt) ? "false" : null;
            if (flag != null && flagAt + flag.length() + 2 <= bodyEnd) {
                return new String[] {s.substring(7, q), flag, s.substring(flagAt + flag.length() + 2, bodyEnd)};
            }
        }
        return null;
    }

    /** Python's {@code \s} for str patterns: Unicode whitespace plus the ASCII separators 0x1c-0x1f. */
    static boolean isPythonSpace(char c) {
        if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0) return true;
        return c > 0xff && (Character.isWhitespace(c) || Character.isSpaceChar(c));
    }
}
