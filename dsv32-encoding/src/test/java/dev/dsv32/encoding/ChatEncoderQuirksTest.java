package dev.dsv32.encoding;

import static dev.dsv32.encoding.Tokens.ASSISTANT;
import static dev.dsv32.encoding.Tokens.EOS;
import static dev.dsv32.encoding.Tokens.USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regressions found by differential fuzzing against the official Python {@code encode_messages}: each expected value
 * (output or "raises") is what the official code gives for the same input.
 */
class ChatEncoderQuirksTest {
    private static final ChatEncoder CHAT = ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build();
    private static final ChatEncoder THINKING_KEEP = ChatEncoder.builder().thinkingMode(ThinkingMode.THINKING).dropThinking(false).build();
    private static final ChatEncoder THINKING_DROP = ChatEncoder.builder().thinkingMode(ThinkingMode.THINKING).dropThinking(true).build();

    static List<JsonNode> msgs(String json) {
        List<JsonNode> out = new ArrayList<>();
        PythonJson.loads(json).forEach(out::add);
        return out;
    }

    private static String callWithArguments(String argumentsJsonText) {
        return "[{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"function\":"
                + " {\"name\": \"f\", \"arguments\": " + PythonJson.quote(argumentsJsonText) + "}}]}]";
    }

    // json.loads accepts only NaN, Infinity and -Infinity as non-finite literals; Jackson also takes +Infinity, INF forms.
    @Test
    void argumentsWithNonPythonInfinityLiteralsAreRejected() {
        for (String lit : new String[] {"-INF", "+INF", "+Infinity", "INF"}) {
            EncodingException e = assertThrows(EncodingException.class,
                    () -> CHAT.encodeJson(msgs(callWithArguments("{\"a\": " + lit + "}"))), lit);
            assertEquals("messages[1].tool_calls[0].function.arguments", e.path());
        }
    }

    @Test
    void argumentsWithPythonNonFiniteLiteralsRender() {
        String out = CHAT.encodeJson(msgs(callWithArguments("{\"a\": -Infinity, \"b\": NaN, \"c\": Infinity}")));
        String d = Tokens.DSML;
        assertEquals(Tokens.BOS + USER + "u" + ASSISTANT + "</think>\n\n<" + d + "function_calls>\n<" + d + "invoke name=\"f\">\n"
                + "<" + d + "parameter name=\"a\" string=\"false\">-Infinity</" + d + "parameter>\n"
                + "<" + d + "parameter name=\"b\" string=\"false\">NaN</" + d + "parameter>\n"
                + "<" + d + "parameter name=\"c\" string=\"false\">Infinity</" + d + "parameter>\n"
                + "</" + d + "invoke>\n</" + d + "function_calls>" + EOS, out);
    }

    // Python >= 3.11 (and the 3.7-3.10 security releases) refuse int literals over 4300 digits in json.loads.
    @Test
    void argumentsWithAnIntegerOver4300DigitsAreRejected() {
        EncodingException e = assertThrows(EncodingException.class,
                () -> CHAT.encodeJson(msgs(callWithArguments("{\"a\": " + "9".repeat(4301) + "}"))));
        assertEquals("messages[1].tool_calls[0].function.arguments", e.path());
        String ok = CHAT.encodeJson(msgs(callWithArguments("{\"a\": -" + "9".repeat(4300) + "}")));
        assertEquals(true, ok.contains("string=\"false\">-" + "9".repeat(4300) + "</"));
    }

    // Floats have no length limit in Python: a 100001-digit literal is just 0.3333333333333333.
    @Test
    void argumentsWithAVeryLongFloatLiteralRender() {
        String out = CHAT.encodeJson(msgs(callWithArguments("{\"a\": 0." + "3".repeat(100_001) + "}")));
        assertEquals(true, out.contains("string=\"false\">0.3333333333333333</"), out);
    }

    // The official code calls msg.get only on the messages it visits; a non-object it never visits is harmless.
    @Test
    void nonObjectContextMessageThatIsNeverVisitedIsIgnored() {
        assertEquals("x" + EOS, CHAT.encodeJson(msgs("[null, {\"role\": \"user\", \"content\": \"u\"}]"),
                msgs("[{\"role\": \"assistant\", \"content\": \"x\"}]")));
        assertEquals("r</think>x" + EOS, THINKING_KEEP.encodeJson(msgs("[null, {\"role\": \"user\", \"content\": \"u\"}]"),
                msgs("[{\"role\": \"assistant\", \"content\": \"x\", \"reasoning_content\": \"r\"}]")));
        // find_last_user_index stops at the last user message, before reaching "junk".
        assertEquals(USER + "x" + ASSISTANT + "</think>", CHAT.encodeJson(
                msgs("[{\"role\": \"user\", \"content\": \"a\"}, \"junk\"]"), msgs("[{\"role\": \"user\", \"content\": \"x\"}]")));
        assertEquals("\n\n<function_results>\n<result>x</result>\n</function_results>\n\n</think>", CHAT.encodeJson(
                msgs("[[1], {\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"tool_calls\":"
                        + " [{\"function\": {\"name\": \"a\", \"arguments\": \"{}\"}}]}]"),
                msgs("[{\"role\": \"tool\", \"content\": \"x\"}]")));
    }

    @Test
    void nonObjectMessageThatIsVisitedIsRejected() {
        // drop_thinking_messages visits every message.
        EncodingException e = assertThrows(EncodingException.class, () -> THINKING_DROP.encodeJson(
                msgs("[null, {\"role\": \"user\", \"content\": \"u\"}]"),
                msgs("[{\"role\": \"assistant\", \"content\": \"x\", \"reasoning_content\": \"r\"}]")));
        assertEquals("context[0]", e.path());
        // find_last_user_index scans from the end and meets it first.
        e = assertThrows(EncodingException.class, () -> CHAT.encodeJson(msgs("[{\"role\": \"user\", \"content\": \"x\"}, 7]")));
        assertEquals("messages[1]", e.path());
        // No user message at all: the scan reaches the start.
        e = assertThrows(EncodingException.class, () -> CHAT.encodeJson(msgs("[[1]]"), msgs("[{\"role\": \"assistant\", \"content\": \"x\"}]")));
        assertEquals("context[0]", e.path());
    }

    // drop_thinking removes the developer message; the list shifts and the error is raised on the shifted assistant.
    @Test
    void errorPathNamesTheCallersMessageAfterDropThinkingShiftsTheList() {
        EncodingException e = assertThrows(EncodingException.class, () -> THINKING_DROP.encodeJson(msgs(
                "[{\"role\": \"developer\", \"content\": \"d\"}, {\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\","
                        + " \"content\": \"a\", \"tool_calls\": [{\"function\": {\"name\": \"f\", \"arguments\": \"[1]\"}}]}]")));
        assertEquals("messages[2].tool_calls[0].function.arguments", e.path());
    }
}
