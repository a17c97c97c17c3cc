package dev.dsv32.encoding;

import static dev.dsv32.encoding.Tokens.BOS;
import static dev.dsv32.encoding.Tokens.DSML;
import static dev.dsv32.encoding.Tokens.EOS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link StrictParser} against the official {@code parse_message_from_completion_text} (encoding.md §6): the §6.1
 * checklist row by row, then the regex corner cases. Expected results (the parsed message, or the exact assertion
 * message as {@link DsmlParseException#reason()}) were produced by the official Python code on the same text.
 */
class StrictParserTest {
    private static ToolCall call(String name, String arguments) {
        return ToolCall.of(name, arguments);
    }

    private static void assertParses(String text, ThinkingMode mode, String content, String reasoning, ToolCall... calls) {
        Message m = StrictParser.parse(text, mode);
        assertEquals(Role.ASSISTANT, m.role());
        assertEquals(content, m.content(), "content");
        assertEquals(reasoning, m.reasoningContent(), "reasoning_content");
        assertEquals(List.of(calls), m.toolCalls(), "tool_calls");
        for (ToolCall c : m.toolCalls()) {
            assertNull(c.id());
            assertEquals("function", c.type());
        }
    }

    private static DsmlParseException assertFails(String reason, String text, ThinkingMode mode) {
        DsmlParseException e = assertThrows(DsmlParseException.class, () -> StrictParser.parse(text, mode));
        assertEquals(reason, e.reason());
        assertTrue(e.offset() >= 0 && e.offset() <= text.length(), "offset " + e.offset() + " outside the text");
        assertTrue(e.getMessage().startsWith(reason + " at offset " + e.offset()), e.getMessage());
        return e;
    }

    /** §6.1: missing EOS, plain content. */
    @Test
    void missingEosAfterPlainContentChat() {
        String text = "hello";
        assertFails("Invalid summary format", text, ThinkingMode.CHAT);
    }

    /** §6.1: missing EOS, plain content (thinking). */
    @Test
    void missingEosAfterPlainContentThinking() {
        String text = "r</think>hello";
        assertFails("Invalid summary format", text, ThinkingMode.THINKING);
    }

    /** §6.1: missing </think>. */
    @Test
    void missingThinkEnd() {
        String text = "reasoning only" + EOS;
        assertFails("Invalid thinking format", text, ThinkingMode.THINKING);
    }

    /** §6.1: tool calls before </think>. */
    @Test
    void toolCallsBeforeThinkEnd() {
        String text = "r\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Invalid thinking format", text, ThinkingMode.THINKING);
    }

    /** §6.1: </think> in content (chat). */
    @Test
    void thinkEndInChatContent() {
        String text = "a</think>b" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.CHAT);
    }

    /** §6.1: a leading <think> echoed into the reasoning. */
    @Test
    void echoedLeadingThink() {
        String text = "<think>r</think>c" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.THINKING);
    }

    /** §6.1: <think> in content. */
    @Test
    void thinkInContent() {
        String text = "r</think>c<think>" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.THINKING);
    }

    /** §6.1: DSML inside the reasoning. */
    @Test
    void dsmlInsideReasoning() {
        String text = "r <" + DSML + "invoke</think>c" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.THINKING);
    }

    /** §6.1: only one \n before <DSML function_calls: not a tool call, so DSML in content. */
    @Test
    void onlyOneNewlineBeforeFunctionCalls() {
        String text = "c\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.CHAT);
    }

    /** §6.1: text after </DSML function_calls>. */
    @Test
    void textAfterFunctionCallsClose() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>x" + EOS;
        assertFails("Unexpected content after tool calls", text, ThinkingMode.CHAT);
    }

    /** §6.1: a single \n after </DSML function_calls>. */
    @Test
    void newlineAfterFunctionCallsClose() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>\n" + EOS;
        assertFails("Unexpected content after tool calls", text, ThinkingMode.CHAT);
    }

    /** §6.1: text after EOS. */
    @Test
    void textAfterEos() {
        String text = "c" + EOS + "x";
        assertFails("Unexpected content at end", text, ThinkingMode.CHAT);
    }

    /** §6.1: text after EOS, tool-call path. */
    @Test
    void textAfterEosFollowingToolCalls() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n";
        assertFails("Unexpected content at end", text, ThinkingMode.CHAT);
    }

    /** §6.1: block never closed, text ends with </DSML invoke>\n. */
    @Test
    void blockNeverClosedEndingWithInvokeCloseAndNewline() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n";
        assertFails("Missing special token", text, ThinkingMode.CHAT);
    }

    /** §6.1: block never closed, EOS after the last invoke. */
    @Test
    void blockNeverClosedWithEosAfterLastInvoke() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n" + EOS;
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** §6.1: block never closed, other text after the last invoke. */
    @Test
    void blockNeverClosedWithTextAfterLastInvoke() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\ndone";
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** §6.1: missing string attribute. */
    @Test
    void missingStringAttribute() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** §6.1: parameters not separated by \n. */
    @Test
    void parametersNotNewlineSeparated() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter><" + DSML + "parameter name=\"b\" string=\"true\">w</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** §6.1: duplicate parameter name. */
    @Test
    void duplicateParameterName() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n<" + DSML + "parameter name=\"a\" string=\"true\">w</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Duplicate parameter name", text, ThinkingMode.CHAT);
    }

    /** CRLF everywhere: the start marker \r\n\r\n<DSML function_calls is not recognised, so DSML is in content. */
    @Test
    void crlfEverywhereHidesTheToolCallStart() {
        String text = "\r\n\r\n<" + DSML + "function_calls>\r\n<" + DSML + "invoke name=\"f\">\r\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\r\n</" + DSML + "invoke>\r\n</" + DSML + "function_calls>" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.CHAT);
    }

    /** §6.1: CRLF right after <DSML function_calls>. */
    @Test
    void crlfAfterFunctionCallsOpen() {
        String text = "\n\n<" + DSML + "function_calls>\r\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** §6.1: truncated after </DSML invoke>. */
    @Test
    void truncatedAfterInvokeClose() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>";
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** §6.1 quirk: truncated right after </DSML invoke (no >) is accepted. */
    @Test
    void truncatedRightAfterInvokeCloseWithoutGt() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke";
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\": \"v\"}"));
    }

    /** §6.1: tool calls without EOS are accepted. */
    @Test
    void toolCallsWithoutEos() {
        String text = "pre\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>";
        assertParses(text, ThinkingMode.CHAT, "pre", "", call("f", "{\"a\": \"v\"}"));
    }

    /** §6.1: an empty block gives no tool calls. */
    @Test
    void emptyFunctionCallsBlock() {
        String text = "\n\n<" + DSML + "function_calls>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "");
    }

    /** §6.1: zero-parameter invoke in the encoder's \n\n form (Python $ before a final \n). */
    @Test
    void zeroParameterInvoke() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{}"));
    }

    /** §6.1: multi-line value containing <. */
    @Test
    void multiLineValueContainingLt() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"code\" string=\"true\">if a < b:\n    x = \"<y>\"\n</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"code\": \"if a < b:\\n    x = \\\"<y>\\\"\\n\"}"));
    }

    /** §6.1: special tokens inside a parameter value are not checked. */
    @Test
    void specialTokensInsideParameterValue() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\"></think><think>" + BOS + DSML + "<\uff5cend\u2581of\u2581sentence\uff5c</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\": \"</think><think><\uff5cbegin\u2581of\u2581sentence\uff5c>\uff5cDSML\uff5c<\uff5cend\u2581of\u2581sentence\uff5c\"}"));
    }

    /** §6.1: string="false" bodies are never validated. */
    @Test
    void stringFalseValueIsPastedVerbatim() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"false\">hello world</" + DSML + "parameter>\n<" + DSML + "parameter name=\"b\" string=\"false\">[1, 2</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\": hello world, \"b\": [1, 2}"));
    }

    /** §6.1: ASCII |DSML| is not recognised. */
    @Test
    void asciiPipeDsmlStaysInContent() {
        String text = "see <|DSML|function_calls> here" + EOS;
        assertParses(text, ThinkingMode.CHAT, "see <|DSML|function_calls> here", "");
    }

    /** Chat mode: content up to EOS, reasoning "". */
    @Test
    void plainContentChat() {
        String text = "Hello!" + EOS;
        assertParses(text, ThinkingMode.CHAT, "Hello!", "");
    }

    /** Thinking mode: reasoning before </think>, content up to EOS. */
    @Test
    void reasoningAndContent() {
        String text = "let me think\nmore</think>Answer." + EOS;
        assertParses(text, ThinkingMode.THINKING, "Answer.", "let me think\nmore");
    }

    /** Both may be empty. */
    @Test
    void emptyReasoningAndContent() {
        String text = "</think>" + EOS;
        assertParses(text, ThinkingMode.THINKING, "", "");
    }

    /** Empty content. */
    @Test
    void onlyEosInChat() {
        String text = EOS;
        assertParses(text, ThinkingMode.CHAT, "", "");
    }

    /** Nothing at all: no EOS. */
    @Test
    void emptyTextChat() {
        String text = "";
        assertFails("Invalid summary format", text, ThinkingMode.CHAT);
    }

    /** Nothing at all: no </think>. */
    @Test
    void emptyTextThinking() {
        String text = "";
        assertFails("Invalid thinking format", text, ThinkingMode.THINKING);
    }

    /** Content before the tool calls is kept; extra newlines stay in it. */
    @Test
    void contentBeforeToolCalls() {
        String text = "pre\n\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "pre\n", "", call("f", "{\"a\": \"v\"}"));
    }

    /** A full thinking-mode turn with two invokes. */
    @Test
    void reasoningContentAndToolCalls() {
        String text = "need data</think>Let me check.\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"get_weather\">\n<" + DSML + "parameter name=\"city\" string=\"true\">Paris</" + DSML + "parameter>\n<" + DSML + "parameter name=\"days\" string=\"false\">2</" + DSML + "parameter>\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"now\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.THINKING, "Let me check.", "need data", call("get_weather", "{\"city\": \"Paris\", \"days\": 2}"), call("now", "{}"));
    }

    /** Text ending exactly with \n\n<DSML function_calls: the loop never runs. */
    @Test
    void toolCallsStartMarkerAloneIsAnEmptyBlock() {
        String text = "c\n\n<" + DSML + "function_calls";
        assertParses(text, ThinkingMode.CHAT, "c", "");
    }

    /** No coercion of string="true" values. */
    @Test
    void stringTrueJsonLookingValueStaysAString() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">{\"k\": 1}</" + DSML + "parameter>\n<" + DSML + "parameter name=\"b\" string=\"true\">42</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\": \"{\\\"k\\\": 1}\", \"b\": \"42\"}"));
    }

    /** Keys and string values pass through json.dumps(ensure_ascii=False). */
    @Test
    void keysAndStringValuesAreJsonEscaped() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\"b\\c\" string=\"true\">line\n\t\"q\" \037 \u2028 \u4e2d\ud83d\ude00</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\\\"b\\\\c\": \"line\\n\\t\\\"q\\\" \\u001f \u2028 \u4e2d\ud83d\ude00\"}"));
    }

    /** A name containing "> is accepted as part of the name. */
    @Test
    void toolNameWithQuoteGt() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\">b\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("a\">b", "{}"));
    }

    /** The invoke head must be name="...">\n. */
    @Test
    void toolNameFormatError() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=f>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool name format error", text, ThinkingMode.CHAT);
    }

    /** Java's $ would accept \r\n here; Python's does not. */
    @Test
    void toolNameWithCrlfHead() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\r\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool name format error", text, ThinkingMode.CHAT);
    }

    /** Nothing may follow ">\n except one more \n. */
    @Test
    void toolNameWithTrailingSpace() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n </" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool name format error", text, ThinkingMode.CHAT);
    }

    /** Only one extra \n is allowed by $. */
    @Test
    void toolNameWithThreeNewlines() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool name format error", text, ThinkingMode.CHAT);
    }

    /** \s is Unicode-aware: ideographic space, NEL and U+001C count. */
    @Test
    void unicodeWhitespaceBeforeName() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke\u3000\u0085\034\u2028name=\"f\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{}"));
    }

    /** U+200B is not \s. */
    @Test
    void zeroWidthSpaceBeforeNameIsNotWhitespace() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke \u200bname=\"f\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool name format error", text, ThinkingMode.CHAT);
    }

    /** \s* also matches nothing. */
    @Test
    void noSpaceBeforeName() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invokename=\"f\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{}"));
    }

    /** Python $ also matches before a final \n: <\n/DSML parameter> is accepted. */
    @Test
    void parameterBodyEndingWithLtNewline() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v<\n/" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\": \"v\"}"));
    }

    /** ...but not before \r. */
    @Test
    void parameterBodyEndingWithLtCr() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v<\r/" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** ...nor before U+2028. */
    @Test
    void parameterBodyEndingWithLtLineSeparator() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v<\u2028/" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** ^ name=: exactly one space. */
    @Test
    void parameterNeedsExactlyOneSpaceBeforeName() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter  name=\"a\" string=\"true\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** string before name is a format error. */
    @Test
    void parameterAttributeOrderIsFixed() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter string=\"true\" name=\"a\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** string="True" is not (true|false). */
    @Test
    void parameterStringMustBeLowercase() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"True\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** Non-greedy name: the first '" string="true|false">' that fits ends it. */
    @Test
    void parameterNameIsTheShortestThatFits() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\" string=\"false\">v</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertParses(text, ThinkingMode.CHAT, "", "", call("f", "{\"a\\\" string=\\\"true\": v}"));
    }

    /** The gap after </DSML parameter must be exactly >\n. */
    @Test
    void parameterGapWithCrlf() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\r\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Parameter format error", text, ThinkingMode.CHAT);
    }

    /** The gap before <DSML invoke must be exactly >\n. */
    @Test
    void invokeGapMustBeGtNewline() {
        String text = "\n\n<" + DSML + "function_calls>\n\n<" + DSML + "invoke name=\"f\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** The start marker has no >; the gap then lacks it. */
    @Test
    void functionCallsOpenWithoutGt() {
        String text = "\n\n<" + DSML + "function_calls\n<" + DSML + "invoke name=\"f\">\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    /** BOS in content. */
    @Test
    void bosInContent() {
        String text = "a" + BOS + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.CHAT);
    }

    /** EOS inside the reasoning. */
    @Test
    void eosInsideReasoning() {
        String text = "r" + EOS + "</think>c" + EOS;
        assertFails("Unexpected special token in content", text, ThinkingMode.THINKING);
    }

    /** Several problems: the earliest step wins (summary check before the special-token check). */
    @Test
    void checksRunInOrder() {
        String text = "a</think>b";
        assertFails("Invalid summary format", text, ThinkingMode.CHAT);
    }

    /** A second invoke missing: text after the invoke close that is not >\n. */
    @Test
    void invokeCloseWithoutBlockCloseThenEos() {
        String text = "\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n</" + DSML + "invoke>x</" + DSML + "function_calls>" + EOS;
        assertFails("Tool call format error", text, ThinkingMode.CHAT);
    }

    // ---- offsets: where the parser stood when it failed

    @Test
    void offsetsPointAtTheProblem() {
        String fc = "\n\n<" + DSML + "function_calls>\n";
        String inv = "<" + DSML + "invoke name=\"f\">\n";
        String par = "<" + DSML + "parameter name=\"a\" string=\"true\">v</" + DSML + "parameter>\n";
        String end = "</" + DSML + "invoke>\n</" + DSML + "function_calls>";

        String t = "content" + EOS + "tail";
        assertEquals(t.indexOf("tail"), assertFails("Unexpected content at end", t, ThinkingMode.CHAT).offset());

        t = "no eos";
        assertEquals(t.length(), assertFails("Invalid summary format", t, ThinkingMode.CHAT).offset());

        t = "reasoning" + fc + inv + par + end + EOS;
        assertEquals(t.indexOf("\n\n"), assertFails("Invalid thinking format", t, ThinkingMode.THINKING).offset());

        t = "abc</think>" + EOS;
        assertEquals(3, assertFails("Unexpected special token in content", t, ThinkingMode.CHAT).offset());

        t = "r<think></think>c" + EOS;
        assertEquals(1, assertFails("Unexpected special token in content", t, ThinkingMode.THINKING).offset());

        t = fc + inv + par + par + end + EOS;
        int secondParam = t.indexOf("<" + DSML + "parameter", t.indexOf("<" + DSML + "parameter") + 1);
        assertEquals(secondParam + ("<" + DSML + "parameter").length(),
                assertFails("Duplicate parameter name", t, ThinkingMode.CHAT).offset());

        t = fc + inv + par + end + "\n" + EOS;
        assertEquals(t.indexOf("\n" + EOS), assertFails("Unexpected content after tool calls", t, ThinkingMode.CHAT).offset());

        t = fc + "<" + DSML + "invoke name=f>\n" + end + EOS;
        assertEquals(t.indexOf(" name=f"), assertFails("Tool name format error", t, ThinkingMode.CHAT).offset());

        t = fc + inv + "<" + DSML + "parameter name=\"a\">v</" + DSML + "parameter>\n" + end + EOS;
        assertEquals(t.indexOf(" name=\"a\">"), assertFails("Parameter format error", t, ThinkingMode.CHAT).offset());

        t = fc + inv + par + "</" + DSML + "invoke>\n";
        assertEquals(t.length(), assertFails("Missing special token", t, ThinkingMode.CHAT).offset());

        t = fc + inv + par + "</" + DSML + "invoke>\n" + EOS;
        assertEquals(t.indexOf(">\n" + EOS), assertFails("Tool call format error", t, ThinkingMode.CHAT).offset());
    }

    /** Regression: the content text also occurs earlier (as the reasoning's closer); report where the content has it. */
    @Test
    void specialTokenInContentIsReportedWhereTheContentHasIt() {
        DsmlParseException e = assertFails("Unexpected special token in content", "r</think></think>" + EOS, ThinkingMode.THINKING);
        assertEquals(9, e.offset());
    }

    @Test
    void exceptionCarriesWhatWasExpected() {
        DsmlParseException e = assertFails("Invalid summary format", "x", ThinkingMode.CHAT);
        assertTrue(e.expected().contains(EOS), e.expected());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }

    // ---- round trips with the encoder (the official test's procedure, encoding.md §9 B/C)

    @Test
    void encoderOutputParsesBackToTheSameArguments() {
        String args = "{\"q\": \"a \\\"b\\\"\\nc <d>\", \"n\": 1, \"f\": 1e-07, \"big\": 1e+16, \"l\": [1, \"x\", null],"
                + " \"o\": {\"k\": true}, \"u\": \"\u4e2d\u2028\\u001f\", \"e\": \"\"}";
        String msgs = "[{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"pre\","
                + " \"reasoning_content\": \"thought\", \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"f\","
                + " \"arguments\": " + PythonJson.quote(args) + "}}, {\"type\": \"function\", \"function\": {\"name\": \"g\","
                + " \"arguments\": \"{}\"}}]}]";
        List<JsonNode> all = new ArrayList<>();
        PythonJson.loads(msgs).forEach(all::add);
        String completion = ChatEncoder.defaults().encodeJson(all.subList(0, 1), all.subList(1, 2));
        // Python-default argument strings survive encode -> parse byte for byte (encoding.md §5.5).
        assertParses(completion, ThinkingMode.THINKING, "pre", "thought", call("f", args), call("g", "{}"));
    }

    @Test
    void chatModeCompletionRoundTrips() {
        String completion = ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build().encode(
                List.of(Message.user("q")), List.of(Message.assistant("just text", "ignored in chat", null)));
        assertEquals("just text" + EOS, completion);
        assertParses(completion, ThinkingMode.CHAT, "just text", "");
    }

    @Test
    void bosIsAlsoASpecialTokenInReasoning() {
        assertFails("Unexpected special token in content", BOS + "r</think>c" + EOS, ThinkingMode.THINKING);
    }

    /**
     * Megabyte-long names and attribute runs (Python's regexes take linear time on them; the port too, as the parsing
     * benchmark shows: timing is not asserted here).
     */
    @Test
    void longNamesAndParametersParse() {
        String fc = "\n\n<" + DSML + "function_calls>\n";
        String end = "</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS;
        String name = "x".repeat(1_000_000);
        String head = fc + "<" + DSML + "invoke name=\"" + name + "\">\n" + end;
        String attrs = "\" string=\"x".repeat(100_000);
        String param = fc + "<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"" + attrs + "\" string=\"true\">v</" + DSML
                + "parameter>\n" + end;
        assertEquals(name, StrictParser.parse(head, ThinkingMode.CHAT).toolCalls().get(0).name());
        assertEquals("{" + PythonJson.quote(attrs) + ": \"v\"}", StrictParser.parse(param, ThinkingMode.CHAT).toolCalls().get(0).arguments());
    }

    @Test
    void nullArgumentsAreRejected() {
        assertThrows(NullPointerException.class, () -> StrictParser.parse(null, ThinkingMode.CHAT));
        assertThrows(NullPointerException.class, () -> StrictParser.parse("x" + EOS, null));
    }
}
