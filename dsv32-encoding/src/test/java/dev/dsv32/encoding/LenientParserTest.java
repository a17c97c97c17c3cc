package dev.dsv32.encoding;

import static dev.dsv32.encoding.CompletionTexts.D;
import static dev.dsv32.encoding.CompletionTexts.EOS;
import static dev.dsv32.encoding.CompletionTexts.block;
import static dev.dsv32.encoding.CompletionTexts.invoke;
import static dev.dsv32.encoding.CompletionTexts.param;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The lenient parser on each failure mode of encoding-failure-modes.md, and on well-formed text. */
class LenientParserTest {
    private static final ThinkingMode T = ThinkingMode.THINKING;
    private static final ThinkingMode C = ThinkingMode.CHAT;

    private static List<String> kinds(ParseResult r) {
        return r.repairs().stream().map(Repair::kind).collect(Collectors.toList());
    }

    private static ParseOptions weatherTools() {
        JsonNode schema = PythonJson.loads("{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"},"
                + " \"days\": {\"type\": \"integer\"}, \"units\": {\"type\": [\"string\", \"null\"]},"
                + " \"hours\": {\"type\": \"array\"}, \"enabled\": {\"type\": \"boolean\"}}}");
        return ParseOptions.builder().tools(List.of(Tool.function("get_weather", "Weather", schema))).build();
    }

    @Test
    void wellFormedTextGivesTheStrictResultAndNoRepairs() {
        String text = "Let me check.</think>Sure." + block(invoke("get_weather", param("city", true, "Hang\nzhou <b>"),
                param("days", false, "3"))) + EOS;
        ParseResult r = LenientParser.parse(text, T);
        assertEquals(StrictParser.parse(text, T), r.message());
        assertEquals(List.of(), r.repairs());
        assertEquals("{\"city\": \"Hang\\nzhou <b>\", \"days\": 3}", r.message().toolCalls().get(0).arguments());
    }

    @Test
    void missingEosIsTakenAsTheEnd() {
        ParseResult r = LenientParser.parse("Hello there", C);
        assertEquals("Hello there", r.message().content());
        assertEquals(List.of(Repair.Kind.MISSING_EOS), kinds(r));
        assertEquals(11, r.repairs().get(0).offset());
    }

    @Test
    void missingThinkEndKeepsEverythingAsReasoning() {
        ParseResult r = LenientParser.parse("thinking forever" + EOS, T);
        assertEquals("thinking forever", r.message().reasoningContent());
        assertEquals("", r.message().content());
        assertEquals(List.of(Repair.Kind.MISSING_THINK_END), kinds(r));
    }

    @Test
    void toolCallsInsideReasoningEndTheReasoning() {
        String text = "I should call it" + block(invoke("get_weather", param("city", true, "Paris"))) + EOS;
        ParseResult r = LenientParser.parse(text, T);
        assertEquals("I should call it", r.message().reasoningContent());
        assertEquals("", r.message().content());
        assertEquals(1, r.message().toolCalls().size());
        assertEquals("{\"city\": \"Paris\"}", r.message().toolCalls().get(0).arguments());
        assertTrue(kinds(r).contains(Repair.Kind.TOOL_CALLS_IN_REASONING));
    }

    @Test
    void unwrappedInvokeIsRecoveredForADeclaredTool() {
        String text = "</think>" + invoke("get_weather", param("city", true, "Oslo")) + EOS;
        ParseResult r = LenientParser.parse(text, T, weatherTools());
        assertEquals(List.of(ToolCall.of("get_weather", "{\"city\": \"Oslo\"}")), r.message().toolCalls());
        assertEquals("", r.message().content());
        assertTrue(kinds(r).contains(Repair.Kind.MISSING_WRAPPER));
    }

    @Test
    void unwrappedInvokeOfAnUndeclaredToolStaysText() {
        String quoted = invoke("rm_rf", param("path", true, "/"));
        ParseResult r = LenientParser.parse("Example: " + quoted + EOS, C, weatherTools());
        assertEquals(List.of(), r.message().toolCalls());
        assertEquals("Example: " + quoted, r.message().content());
        assertTrue(kinds(r).contains(Repair.Kind.BARE_INVOKE_KEPT_AS_CONTENT));
    }

    @Test
    void unwrappedInvokeThatNeverClosesStaysText() {
        String text = "See <" + D + "invoke name=\"get_weather\">\n" + param("city", true, "Rome");
        ParseResult r = LenientParser.parse(text, C, weatherTools());
        assertEquals(List.of(), r.message().toolCalls());
        assertEquals(text, r.message().content());
    }

    @Test
    void truncatedOutputKeepsTheCallWithItsPartialValue() {
        String text = "</think>" + "\n\n<" + D + "function_calls>\n<" + D + "invoke name=\"get_weather\">\n<" + D
                + "parameter name=\"city\" string=\"true\">Hel";
        ParseResult r = LenientParser.parse(text, T);
        assertEquals(List.of(ToolCall.of("get_weather", "{\"city\": \"Hel\"}")), r.message().toolCalls());
        assertTrue(kinds(r).containsAll(List.of(Repair.Kind.UNCLOSED_PARAMETER, Repair.Kind.UNCLOSED_INVOKE, Repair.Kind.UNCLOSED_TOOL_CALLS)));
    }

    @Test
    void sentinelVariantsAndTheV4BlockNameAreAccepted() {
        for (String sentinel : new String[] {"\uFF5C\uFF5CDSML\uFF5C\uFF5C", "|DSML|", "\u2016DSML\u2016", "\uFF5C DSML \uFF5C"}) {
            for (String blockName : new String[] {"function_calls", "tool_calls"}) {
                String text = "ok\n\n<" + sentinel + blockName + ">\n<" + sentinel + "invoke name=\"f\">\n<" + sentinel
                        + "parameter name=\"a\" string=\"false\">1</" + sentinel + "parameter>\n</" + sentinel + "invoke>\n</"
                        + sentinel + blockName + ">" + EOS;
                ParseResult r = LenientParser.parse(text, C);
                assertEquals("ok", r.message().content(), sentinel + blockName);
                assertEquals(List.of(ToolCall.of("f", "{\"a\": 1}")), r.message().toolCalls(), sentinel + blockName);
                assertTrue(kinds(r).contains(Repair.Kind.MARKER_VARIANT));
            }
        }
    }

    @Test
    void crlfAndBlankDriftBetweenTagsAreTolerated() {
        String text = "x\r\n\r\n<" + D + "function_calls>\r\n<" + D + "invoke name=\"f\">\r\n  <" + D
                + "parameter name=\"a\" string=\"true\">v</" + D + "parameter>\r\n</" + D + "invoke>\r\n</" + D + "function_calls>\n" + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals(List.of(ToolCall.of("f", "{\"a\": \"v\"}")), r.message().toolCalls());
        assertEquals("x", r.message().content());
        assertTrue(kinds(r).contains(Repair.Kind.TAG_SPACING));
        assertTrue(kinds(r).contains(Repair.Kind.TOOL_CALLS_SPACING));
    }

    @Test
    void missingStringAttributeIsTypedBySchemaOrJson() {
        String body = block(invoke("get_weather",
                "<parameter name=\"enabled\">true</" + D + "parameter>",
                "<" + D + "parameter name=\"city\">12345</" + D + "parameter>",
                "<" + D + "parameter name=\"days\">4</" + D + "parameter>")) + EOS;
        ParseResult typed = LenientParser.parse(body, C, weatherTools());
        assertEquals("{\"enabled\": true, \"city\": \"12345\", \"days\": 4}", typed.message().toolCalls().get(0).arguments());
        assertTrue(kinds(typed).contains(Repair.Kind.MISSING_STRING_ATTRIBUTE));
        ParseResult untyped = LenientParser.parse(body, C);
        assertEquals("{\"enabled\": true, \"city\": 12345, \"days\": 4}", untyped.message().toolCalls().get(0).arguments());
    }

    @Test
    void nonJsonStringFalseValueBecomesAString() {
        String text = block(invoke("f", param("a", false, "hello world"))) + EOS;
        assertEquals("{\"a\": hello world}", StrictParser.parse(text, C).toolCalls().get(0).arguments());
        ParseResult r = LenientParser.parse(text, C);
        assertEquals("{\"a\": \"hello world\"}", r.message().toolCalls().get(0).arguments());
        assertEquals(List.of(Repair.Kind.NON_JSON_VALUE), kinds(r));
    }

    @Test
    void jsonInAStringParameterIsParsedOnlyWhenTheSchemaSaysSo() {
        String text = block(invoke("get_weather", param("hours", true, "[1, 2]"), param("city", true, "[1, 2]"))) + EOS;
        ParseResult typed = LenientParser.parse(text, C, weatherTools());
        assertEquals("{\"hours\": [1, 2], \"city\": \"[1, 2]\"}", typed.message().toolCalls().get(0).arguments());
        assertEquals(List.of(Repair.Kind.COERCED_BY_SCHEMA), kinds(typed));
        ParseResult untyped = LenientParser.parse(text, C);
        assertEquals("{\"hours\": \"[1, 2]\", \"city\": \"[1, 2]\"}", untyped.message().toolCalls().get(0).arguments());
        assertEquals(List.of(), untyped.repairs());
    }

    @Test
    void duplicateParameterKeepsTheFirstValue() {
        String text = block(invoke("f", param("a", true, "1"), param("a", true, "2"))) + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals("{\"a\": \"1\"}", r.message().toolCalls().get(0).arguments());
        assertEquals(List.of(Repair.Kind.DUPLICATE_PARAMETER), kinds(r));
    }

    @Test
    void undeclaredToolIsFlaggedButKept() {
        String text = block(invoke("launch", param("target", true, "moon"))) + EOS;
        ParseResult r = LenientParser.parse(text, C, weatherTools());
        assertEquals(1, r.message().toolCalls().size());
        assertEquals(List.of(Repair.Kind.UNDECLARED_TOOL), kinds(r));
    }

    @Test
    void inlineJsonBodyIsAccepted() {
        String text = block("<" + D + "invoke name=\"f\">\n{\"a\": 1, \"b\": [true]}\n</" + D + "invoke>") + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals(List.of(ToolCall.of("f", "{\"a\": 1, \"b\": [true]}")), r.message().toolCalls());
        assertEquals(List.of(Repair.Kind.INLINE_JSON_ARGUMENTS), kinds(r));
    }

    @Test
    void unreadableInvokeBodyFailsClosed() {
        String text = block("<" + D + "invoke name=\"f\">\n{not json\n</" + D + "invoke>") + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals(List.of(), r.message().toolCalls());
        assertTrue(kinds(r).contains(Repair.Kind.INVALID_INVOKE));
        assertTrue(r.repairs().get(0).detail().contains("{not json"));
    }

    @Test
    void specialAndThinkTokensNeverReachTheContent() {
        String text = "<think>plan</think>A<｜begin▁of▁sentence｜>B</think>C<think>D" + EOS;
        ParseResult r = LenientParser.parse(text, T);
        assertEquals("plan", r.message().reasoningContent());
        assertEquals("ABCD", r.message().content());
        assertEquals(List.of(Repair.Kind.ECHOED_THINK_START, Repair.Kind.SPECIAL_TOKEN_REMOVED, Repair.Kind.STRAY_THINK_TOKEN,
                Repair.Kind.STRAY_THINK_TOKEN), kinds(r));
    }

    @Test
    void strayAndDuplicateClosersAreAbsorbed() {
        String text = "a</" + D + "parameter>b" + block(invoke("f")) + "</" + D + "function_calls>" + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals("ab", r.message().content());
        assertEquals(List.of(ToolCall.of("f", "{}")), r.message().toolCalls());
        assertEquals(List.of(Repair.Kind.STRAY_TAG, Repair.Kind.STRAY_TAG), kinds(r));
    }

    @Test
    void singleNewlineBeforeToolCallsIsAccepted() {
        String text = "pre\n<" + D + "function_calls>\n" + invoke("f") + "\n</" + D + "function_calls>" + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals("pre", r.message().content());
        assertEquals(1, r.message().toolCalls().size());
        assertEquals(List.of(Repair.Kind.TOOL_CALLS_SPACING), kinds(r));
    }

    @Test
    void textAfterEosIsIgnoredButReported() {
        ParseResult r = LenientParser.parse("done" + EOS + "junk", C);
        assertEquals("done", r.message().content());
        assertEquals(List.of(Repair.Kind.TEXT_AFTER_EOS), kinds(r));
        assertTrue(r.repairs().get(0).detail().contains("junk"));
        assertEquals(4 + EOS.length(), r.repairs().get(0).offset());
    }

    @Test
    void truncatedMarkerAtTheEndIsRemoved() {
        ParseResult r = LenientParser.parse("answer <｜DS", C);
        assertEquals("answer ", r.message().content());
        assertTrue(kinds(r).contains(Repair.Kind.TRUNCATED_MARKER));
    }

    @Test
    void tooManyCallsAreCapped() {
        String[] invokes = new String[5];
        for (int i = 0; i < 5; i++) invokes[i] = invoke("f" + i);
        ParseResult r = LenientParser.parse(block(invokes) + EOS, C, ParseOptions.builder().maxToolCalls(3).build());
        assertEquals(3, r.message().toolCalls().size());
        assertEquals(2, kinds(r).stream().filter(Repair.Kind.TOO_MANY_TOOL_CALLS::equals).count());
    }

    @Test
    void plainLessThanAndLookalikesStayText() {
        String text = "a < b, <thinking>, <｜>, </thinker>, |DSML| and <p>ok</p>" + EOS;
        ParseResult r = LenientParser.parse(text, C);
        assertEquals(text.substring(0, text.length() - EOS.length()), r.message().content());
        assertFalse(r.repaired());
    }
}
