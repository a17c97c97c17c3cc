package dev.dsv32.encoding;

import static dev.dsv32.encoding.Tokens.ASSISTANT;
import static dev.dsv32.encoding.Tokens.BOS;
import static dev.dsv32.encoding.Tokens.DSML;
import static dev.dsv32.encoding.Tokens.EOS;
import static dev.dsv32.encoding.Tokens.USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every rule of encoding.md §4-§5 as a case of {@link ChatEncoder#encodeJson}. Expected outputs were produced by the
 * official Python {@code encode_messages} on the same input (and "fails" means the official code raises there); the
 * expected path of an {@link EncodingException} is this port's own addition. Messages are written as JSON with single
 * quotes for readability ({@code \u0027} stands for an apostrophe).
 */
class ChatEncoderRulesTest {
    /** The tools block up to {@code <functions>\n}, from the official template (fixtures/encoding/templates.json). */
    private static final String TOOLS_HEAD = Fixtures.json("templates.json").get("rendered_tools_block_before_schemas").textValue();

    private static ChatEncoder encoder(ThinkingMode mode, boolean dropThinking, boolean bos) {
        return ChatEncoder.builder().thinkingMode(mode).dropThinking(dropThinking).addBosToken(bos).build();
    }

    static List<JsonNode> json(String singleQuoted) {
        List<JsonNode> out = new ArrayList<>();
        if (singleQuoted == null) return out;
        PythonJson.loads(singleQuoted.replace('\'', '"')).forEach(out::add);
        return out;
    }

    private static String encode(ChatEncoder enc, String context, String messages) {
        return enc.encodeJson(json(context), json(messages));
    }

    private static EncodingException assertFails(String path, ChatEncoder enc, String context, String messages) {
        EncodingException e = assertThrows(EncodingException.class, () -> encode(enc, context, messages));
        assertEquals(path, e.path(), e.getMessage());
        assertTrue(e.getMessage().startsWith(path), e.getMessage());
        return e;
    }

    /** Model card example (§1), drop_thinking=True. */
    @Test
    void modelCardExampleWithDropThinking() {
        assertEquals(BOS + USER + "hello" + ASSISTANT + "</think>Hello! I am DeepSeek." + EOS + USER + "1+1=?" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'hello'}, {'role': 'assistant', 'content': 'Hello! I am DeepSeek.', 'reasoning_content': 'thinking...'}, {'role': 'user', 'content': '1+1=?'}]"));
    }

    /** Same output with drop_thinking=False: earlier reasoning is never rendered (§5.2). */
    @Test
    void modelCardExampleWithoutDropThinking() {
        assertEquals(BOS + USER + "hello" + ASSISTANT + "</think>Hello! I am DeepSeek." + EOS + USER + "1+1=?" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'hello'}, {'role': 'assistant', 'content': 'Hello! I am DeepSeek.', 'reasoning_content': 'thinking...'}, {'role': 'user', 'content': '1+1=?'}]"));
    }

    /** Chat mode: the user turn ends with </think> (§5.6). */
    @Test
    void chatModeClosesThinkingAfterUser() {
        assertEquals(BOS + USER + "Hello" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'Hello'}]"));
    }

    /** Thinking mode: the last user turn ends with <think>. */
    @Test
    void thinkingModeOpensThinkingAfterLastUser() {
        assertEquals(BOS + USER + "Hello" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'Hello'}]"));
    }

    /** add_default_bos_token=False. */
    @Test
    void noBosWhenDisabled() {
        assertEquals(USER + "Hello" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, false), null, "[{'role': 'user', 'content': 'Hello'}]"));
    }

    /** Context supplies history only; no BOS with a non-empty context (§5). */
    @Test
    void contextSuppressesBosAndIsNotRendered() {
        assertEquals("why</think>answer" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), "[{'role': 'system', 'content': 'sys'}, {'role': 'user', 'content': 'q'}]", "[{'role': 'assistant', 'content': 'answer', 'reasoning_content': 'why'}]"));
    }

    /** An empty context is no context. */
    @Test
    void emptyContextKeepsBos() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), "[]", "[{'role': 'user', 'content': 'q'}]"));
    }

    /** A user message in context makes the rendered assistant current-round. */
    @Test
    void contextDecidesTheThinkingMarkers() {
        assertEquals("c" + EOS + USER + "next" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), "[{'role': 'user', 'content': 'q'}]", "[{'role': 'assistant', 'content': 'c', 'reasoning_content': 'r'}, {'role': 'user', 'content': 'next'}]"));
    }

    /** Earlier user turns end with </think>, only the last with <think> (§5.1). */
    @Test
    void onlyTheLastUserOpensThinking() {
        assertEquals(BOS + USER + "a" + ASSISTANT + "</think>b" + EOS + USER + "c" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'a'}, {'role': 'assistant', 'content': 'b'}, {'role': 'user', 'content': 'c'}]"));
    }

    /** A developer message is a user turn for last_user_idx (§5.1). */
    @Test
    void developerCountsAsTheLastUser() {
        assertEquals(BOS + USER + "a" + ASSISTANT + "</think>b" + EOS + USER + "\n\n# The user's message is: d" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'a'}, {'role': 'assistant', 'content': 'b', 'reasoning_content': 'r'}, {'role': 'developer', 'content': 'd'}]"));
    }

    /** The developer turn before a later user ends with </think>. */
    @Test
    void userAfterDeveloperIsTheLastUser() {
        assertEquals(BOS + USER + "\n\n# The user's message is: d" + ASSISTANT + "</think>" + USER + "u" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'developer', 'content': 'd'}, {'role': 'user', 'content': 'u'}]"));
    }

    /** No user/developer: last_user_idx = -1, so every assistant turn shows its reasoning. */
    @Test
    void withoutUserEveryAssistantIsCurrentRound() {
        assertEquals(BOS + "sr</think>c" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'system', 'content': 's'}, {'role': 'assistant', 'content': 'c', 'reasoning_content': 'r'}]"));
    }

    /** Earlier reasoning disappears with or without drop_thinking (§5.2). */
    @Test
    void dropThinkingMatchesKeepThinking_drop() {
        assertEquals(BOS + USER + "q1" + ASSISTANT + "</think>a1" + EOS + USER + "q2" + ASSISTANT + "<think>r2</think>a2" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q1'}, {'role': 'assistant', 'content': 'a1', 'reasoning_content': 'r1'}, {'role': 'user', 'content': 'q2'}, {'role': 'assistant', 'content': 'a2', 'reasoning_content': 'r2'}]"));
    }

    /** Earlier reasoning disappears with or without drop_thinking (§5.2). */
    @Test
    void dropThinkingMatchesKeepThinking_keep() {
        assertEquals(BOS + USER + "q1" + ASSISTANT + "</think>a1" + EOS + USER + "q2" + ASSISTANT + "<think>r2</think>a2" + EOS,
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'q1'}, {'role': 'assistant', 'content': 'a1', 'reasoning_content': 'r1'}, {'role': 'user', 'content': 'q2'}, {'role': 'assistant', 'content': 'a2', 'reasoning_content': 'r2'}]"));
    }

    /** Quirk (§5.2): drop_thinking removes the developer message and the render loop runs out of range. */
    @Test
    void developerBeforeLaterUserFailsWithDropThinking() {
        // official: AssertionError: 
        assertFails("messages", encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'developer', 'content': 'd'}, {'role': 'user', 'content': 'u'}]");
    }

    /** The developer-drop quirk needs thinking mode and drop_thinking. */
    @Test
    void developerBeforeLaterUserInChatModeRenders() {
        assertEquals(BOS + USER + "\n\n# The user's message is: d" + ASSISTANT + "</think>" + USER + "u" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer', 'content': 'd'}, {'role': 'user', 'content': 'u'}]"));
    }

    /** drop_thinking also drops unknown roles before the last user: out of range (§5.2). */
    @Test
    void unknownRoleBeforeLastUserIsDroppedThenFails() {
        // official: AssertionError: 
        assertFails("messages", encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'function', 'content': 'x'}, {'role': 'user', 'content': 'u'}]");
    }

    /** Unknown role -> NotImplementedError (§5.8). */
    @Test
    void unknownRoleFailsWithoutDropThinking() {
        // official: NotImplementedError: Unknown role: function
        assertFails("messages[0].role", encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'function', 'content': 'x'}, {'role': 'user', 'content': 'u'}]");
    }

    /** No role token for system: its text follows BOS directly (§5.3). */
    @Test
    void systemIsBareText() {
        assertEquals(BOS + "You are helpful." + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 'You are helpful.'}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** Two system messages concatenate without separator. */
    @Test
    void consecutiveSystemMessagesConcatenate() {
        assertEquals(BOS + "AB" + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 'A'}, {'role': 'system', 'content': 'B'}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** A later system message is emitted right after the previous turn. */
    @Test
    void systemMidConversationFollowsTheEos() {
        assertEquals(BOS + USER + "hi" + ASSISTANT + "</think>yo" + EOS + "Be brief." + USER + "again" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'yo'}, {'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'again'}]"));
    }

    /** content or "": None, 0 and "" render nothing for system. */
    @Test
    void systemNoneOrFalsyContentIsEmpty() {
        assertEquals(BOS + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': null}, {'role': 'system', 'content': 0}, {'role': 'system', 'content': ''}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** A tools-only system message gives BOS + \n\n## Tools... (§5.3, §7). */
    @Test
    void systemWithToolsOnly() {
        assertEquals(BOS + "\n\n" + TOOLS_HEAD + "{\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}\n</functions>\n" + USER + "hi" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'system', 'tools': [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Get weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}]}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** After </functions>\n comes \n\n## Response Format (§5.4). */
    @Test
    void systemToolsThenResponseFormatHasThreeNewlines() {
        assertEquals(BOS + "sys\n\n" + TOOLS_HEAD + "{\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}\n{\"description\": \"Current time, \\\"precise\\\" to 1e-07 s \u2028 \u4e2d\u6587\", \"name\": \"now\", \"parameters\": {\"type\": \"object\", \"properties\": {}, \"x-scale\": 100000.0}}\n</functions>\n\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n{\"type\": \"json_object\"}" + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 'sys', 'tools': [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Get weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}, {'type': 'function', 'function': {'description': 'Current time, \\'precise\\' to 1e-07 s \\u2028 \\u4e2d\\u6587', 'name': 'now', 'parameters': {'type': 'object', 'properties': {}, 'x-scale': 100000.0}}}], 'response_format': {'type': 'json_object'}}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** response_format is any JSON value, rendered with json.dumps (§5.4). */
    @Test
    void systemResponseFormatOnly() {
        assertEquals(BOS + "sys\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n{\"type\": \"json_schema\", \"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"number\", \"maximum\": 1e+16, \"minimum\": -0.0}}}" + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 'sys', 'response_format': {'type': 'json_schema', 'json_schema': {'name': 'x', 'schema': {'type': 'number', 'maximum': 1e+16, 'minimum': -0.0}}}}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** tools [] and response_format {} / "" / 0 / null add nothing. */
    @Test
    void falsyToolsAndResponseFormatAreSkipped() {
        assertEquals(BOS + "abcd" + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 'a', 'tools': [], 'response_format': {}}, {'role': 'system', 'content': 'b', 'response_format': ''}, {'role': 'system', 'content': 'c', 'response_format': 0}, {'role': 'system', 'content': 'd', 'tools': null, 'response_format': null}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** A description containing {dsml_token} or {tool_schemas} stays literal (§3). */
    @Test
    void toolSchemaTextIsNeverReformatted() {
        assertEquals(BOS + "\n\n" + TOOLS_HEAD + "{\"name\": \"f\", \"description\": \"{dsml_token} {tool_schemas} {}\"}\n</functions>\n" + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': '', 'tools': [{'type': 'function', 'function': {'name': 'f', 'description': '{dsml_token} {tool_schemas} {}'}}]}, {'role': 'user', 'content': 'hi'}]"));
    }

    /** tools/response_format are only rendered for system and developer (§4). */
    @Test
    void toolsOnUserMessagesAreIgnored() {
        assertEquals(BOS + USER + "hi" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'hi', 'tools': [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Get weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}], 'response_format': {'type': 'json_object'}}]"));
    }

    /** <User> + tools + response format + \n\n# The user's message is: content + <Assistant> (§5.3). */
    @Test
    void developerGrammar() {
        assertEquals(BOS + USER + "\n\n" + TOOLS_HEAD + "{\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}\n</functions>\n\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n{\"type\": \"json_object\"}\n\n# The user's message is: find it" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'developer', 'content': 'find it', 'tools': [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Get weather', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}], 'response_format': {'type': 'json_object'}}]"));
    }

    /** A plain developer message. */
    @Test
    void developerWithoutExtras() {
        assertEquals(BOS + USER + "\n\n# The user's message is: search this" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer', 'content': 'search this'}]"));
    }

    /** str(content) for a truthy non-string developer content. */
    @Test
    void developerNonStringContent() {
        assertEquals(BOS + USER + "\n\n# The user's message is: [1, 'a']" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer', 'content': [1, 'a']}]"));
    }

    /** assert content (§5.8). */
    @Test
    void developerEmptyContentFails() {
        // official: AssertionError: Invalid message for role `developer`: {'role': 'developer', 'content': ''}
        assertFails("messages[0].content", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer', 'content': ''}]");
    }

    /** assert content (§5.8). */
    @Test
    void developerNullContentFails() {
        // official: AssertionError: Invalid message for role `developer`: {'role': 'developer', 'content': None}
        assertFails("messages[0].content", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer', 'content': null}]");
    }

    /** assert content (§5.8). */
    @Test
    void developerMissingContentFails() {
        // official: AssertionError: Invalid message for role `developer`: {'role': 'developer'}
        assertFails("messages[0].content", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'developer'}]");
    }

    /** str(content): None -> None, numbers, bools, lists and dicts as Python prints them (§4). */
    @Test
    void userContentIsStrOfTheValue() {
        assertEquals(BOS + USER + "None" + ASSISTANT + "</think>" + USER + "None" + ASSISTANT + "</think>" + USER + "1.0" + ASSISTANT + "</think>" + USER + "1e+16" + ASSISTANT + "</think>" + USER + "1e-07" + ASSISTANT + "</think>" + USER + "True" + ASSISTANT + "</think>" + USER + "12345678901234567890" + ASSISTANT + "</think>" + USER + "['a', 1, None, 2.5, {'k': False}]" + ASSISTANT + "</think>" + USER + "{'k': \"it's\", 'q': '\"x\"'}" + ASSISTANT + "</think>" + USER + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': null}, {'role': 'user'}, {'role': 'user', 'content': 1.0}, {'role': 'user', 'content': 1e+16}, {'role': 'user', 'content': 1e-07}, {'role': 'user', 'content': true}, {'role': 'user', 'content': 12345678901234567890}, {'role': 'user', 'content': ['a', 1, null, 2.5, {'k': false}]}, {'role': 'user', 'content': {'k': 'it\\u0027s', 'q': '\\'x\\''}}, {'role': 'user', 'content': ''}]"));
    }

    /** Values are inserted once, never re-formatted. */
    @Test
    void userContentBracesAreLiteral() {
        assertEquals(BOS + USER + "{content} {} {0}" + ASSISTANT + "</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': '{content} {} {0}'}]"));
    }

    /** index < last_user_idx: reasoning never shown (§5.6). */
    @Test
    void assistantBeforeLastUserHasNoReasoning() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>a" + EOS + USER + "q2" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a', 'reasoning_content': 'r'}, {'role': 'user', 'content': 'q2'}]"));
    }

    /** index > last_user_idx: reasoning</think>content<eos> (§5.3). */
    @Test
    void assistantAfterLastUserShowsReasoning() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>a" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a', 'reasoning_content': 'r'}]"));
    }

    /** Chat mode never renders reasoning. */
    @Test
    void assistantInChatModeIgnoresReasoning() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>a" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a', 'reasoning_content': 'r'}]"));
    }

    /** Tool calls alone satisfy the thinking assertion; empty reasoning then </think>. */
    @Test
    void assistantToolCallsWithoutReasoning() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think></think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{}'}}]}]"));
    }

    /** Thinking mode, after the last user, no reasoning and no tool calls (§5.8). */
    @Test
    void assistantWithoutReasoningOrToolCallsFails() {
        // official: AssertionError: ThinkingMode: thinking, invalid message without reasoning_content/tool_calls `{'
        assertFails("messages[1]", encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]");
    }

    /** Empty reasoning is falsy. */
    @Test
    void assistantWithEmptyReasoningFails() {
        // official: AssertionError: ThinkingMode: thinking, invalid message without reasoning_content/tool_calls `{'
        assertFails("messages[1]", encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a', 'reasoning_content': ''}]");
    }

    /** content or "" for assistant. */
    @Test
    void assistantNoneContentIsEmpty() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r'}]"));
    }

    /** str(reasoning_content) when truthy. */
    @Test
    void assistantNonStringReasoning() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>2.5</think>" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 0, 'reasoning_content': 2.5}]"));
    }

    /** tool_calls [] / null: no block. */
    @Test
    void assistantFalsyToolCallsRenderNothing() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>a" + EOS + USER + "q" + ASSISTANT + "</think>b" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a', 'tool_calls': []}, {'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'b'}]"));
    }

    /** Strings raw with string="true"; everything else json.dumps with string="false" (§5.5). */
    @Test
    void argumentTyping() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"s\" string=\"true\">line1\nline2 \"q\" <x> \037</" + DSML + "parameter>\n<" + DSML + "parameter name=\"i\" string=\"false\">1</" + DSML + "parameter>\n<" + DSML + "parameter name=\"f\" string=\"false\">1.5</" + DSML + "parameter>\n<" + DSML + "parameter name=\"small\" string=\"false\">1e-07</" + DSML + "parameter>\n<" + DSML + "parameter name=\"big\" string=\"false\">1e+16</" + DSML + "parameter>\n<" + DSML + "parameter name=\"e5\" string=\"false\">100000.0</" + DSML + "parameter>\n<" + DSML + "parameter name=\"hk\" string=\"false\">100000.0</" + DSML + "parameter>\n<" + DSML + "parameter name=\"negz\" string=\"false\">-0.0</" + DSML + "parameter>\n<" + DSML + "parameter name=\"bigint\" string=\"false\">123456789012345678901234567890</" + DSML + "parameter>\n<" + DSML + "parameter name=\"t\" string=\"false\">true</" + DSML + "parameter>\n<" + DSML + "parameter name=\"n\" string=\"false\">null</" + DSML + "parameter>\n<" + DSML + "parameter name=\"arr\" string=\"false\">[1, \"a\", [], {}]</" + DSML + "parameter>\n<" + DSML + "parameter name=\"obj\" string=\"false\">{\"k\": \"v\", \"c\": \"\\u001f\\n/\", \"x\": 1.0}</" + DSML + "parameter>\n<" + DSML + "parameter name=\"uni\" string=\"true\">\u4e2d\u6587\ud83d\ude00\u2028</" + DSML + "parameter>\n<" + DSML + "parameter name=\"empty\" string=\"true\"></" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'s\\': \\'line1\\\\nline2 \\\\\\'q\\\\\\' <x> \\\\u001f\\', \\'i\\': 1, \\'f\\': 1.5, \\'small\\': 1e-07, \\'big\\': 1e16, \\'e5\\': 1e5, \\'hk\\': 100000.0, \\'negz\\': -0.0, \\'bigint\\': 123456789012345678901234567890, \\'t\\': true, \\'n\\': null, \\'arr\\': [1, \\'a\\', [], {}], \\'obj\\': {\\'k\\': \\'v\\', \\'c\\': \\'\\\\u001f\\\\n/\\', \\'x\\': 1.0}, \\'uni\\': \\'\\u4e2d\\u6587\\ud83d\\ude00\\\\u2028\\', \\'empty\\': \\'\\'}'}}]}]"));
    }

    /** json.loads key order; a repeated key keeps its first position and takes the last value. */
    @Test
    void argumentKeyOrderAndRepeatedKeys() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"b\" string=\"false\">3</" + DSML + "parameter>\n<" + DSML + "parameter name=\"a\" string=\"false\">2</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'b\\': 1, \\'a\\': 2, \\'b\\': 3}'}}]}]"));
    }

    /** arguments "{}": invoke name="f">\n\n</invoke> (§5.3). */
    @Test
    void zeroParameterInvokeHasAnEmptyLine() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{}'}}]}]"));
    }

    /** Several calls in one block, in order. */
    @Test
    void parallelInvokesJoinedByNewline() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>pre\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\">\n<" + DSML + "parameter name=\"x\" string=\"false\">1</" + DSML + "parameter>\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"b\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"c\">\n<" + DSML + "parameter name=\"y\" string=\"true\">z</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'pre', 'reasoning_content': 'r', 'tool_calls': [{'type': 'function', 'function': {'name': 'a', 'arguments': '{\\'x\\': 1}'}}, {'type': 'function', 'function': {'name': 'b', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'c', 'arguments': '{\\'y\\': \\'z\\'}'}}]}]"));
    }

    /** No escaping of quotes, < or newlines in names and keys (§5.3). */
    @Test
    void namesAndKeysAreInsertedRaw() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\"b<c>\n\">\n<" + DSML + "parameter name=\"k\"<\n\" string=\"true\">v\"<</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'a\\'b<c>\\n', 'arguments': '{\\'k\\\\\\'<\\\\n\\': \\'v\\\\\\'<\\'}'}}]}]"));
    }

    /** name=None renders None; a number renders as str. */
    @Test
    void toolCallNameIsStrOfTheValue() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"None\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"5\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': null, 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 5, 'arguments': '{}'}}]}]"));
    }

    /** json.loads allows JSON whitespace around the object. */
    @Test
    void argumentsJsonMayHaveSurroundingWhitespace() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"false\">[1, 2]</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': ' \\n{\\'a\\': [1 , 2]}\\t'}}]}]"));
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringADict() {
        // official: TypeError: the JSON object must be str, bytes or bytearray, not dict
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': {'a': 1}}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringAnArray() {
        // official: AttributeError: 'list' object has no attribute 'items'
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '[1]'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringNotJson() {
        // official: JSONDecodeError: Expecting value: line 1 column 1 (char 0)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': 'not json'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringEmpty() {
        // official: JSONDecodeError: Expecting value: line 1 column 1 (char 0)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': ''}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringNull() {
        // official: TypeError: the JSON object must be str, bytes or bytearray, not NoneType
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': null}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringSingleQuoted() {
        // official: JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '{\\u0027a\\u0027: 1}'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringTrailingComma() {
        // official: JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 9 (char 8)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1,}'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringWithExtraData() {
        // official: JSONDecodeError: Extra data: line 1 column 10 (char 9)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1} x'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringNumberString() {
        // official: AttributeError: 'int' object has no attribute 'items'
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '5'}}]}]");
    }

    /** The official code calls json.loads(arguments).items() (§4, §5.8). */
    @Test
    void argumentsThatAreNotAJsonObjectStringWithRawNewlineInString() {
        // official: JSONDecodeError: Invalid control character at: line 1 column 9 (char 8)
        assertFails("messages[1].tool_calls[1].function.arguments", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'ok', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': \\'x\\ny\\'}'}}]}]");
    }

    /** tool_call["function"] -> KeyError. */
    @Test
    void toolCallWithoutFunctionFails() {
        // official: KeyError: 'function'
        assertFails("messages[1].tool_calls[0]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function'}]}]");
    }

    /** function["name"] -> KeyError. */
    @Test
    void toolCallWithoutNameFails() {
        // official: KeyError: 'name'
        assertFails("messages[1].tool_calls[0].function", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'function': {'arguments': '{}'}}]}]");
    }

    /** function["arguments"] -> KeyError. */
    @Test
    void toolCallWithoutArgumentsFails() {
        // official: KeyError: 'arguments'
        assertFails("messages[1].tool_calls[0].function", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'function': {'name': 'f'}}]}]");
    }

    /** tool_calls are converted for every role before dispatch (§4). */
    @Test
    void malformedToolCallsOnAUserMessageFail() {
        // official: KeyError: 'function'
        assertFails("messages[0].tool_calls[0]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q', 'tool_calls': [{'id': 'x'}]}]");
    }

    /** tools are converted for every role before dispatch (§4). */
    @Test
    void malformedToolsOnAUserMessageFail() {
        // official: KeyError: 'function'
        assertFails("messages[0].tools[0]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q', 'tools': [{'type': 'function'}]}]");
    }

    /** Iterating a dict yields keys, and str["function"] raises. */
    @Test
    void toolsThatAreNotAListFail() {
        // official: TypeError: string indices must be integers, not 'str'
        assertFails("messages[0].tools", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'system', 'content': 's', 'tools': {'type': 'function'}}]");
    }

    /** \n\n<function_results>\n<result>..</result>\n</function_results>\n\n + marker (§5.3). */
    @Test
    void singleToolResultBlock() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"false\">1</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>res</result>\n</function_results>\n\n</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'id': 'call_1', 'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1}'}}]}, {'role': 'tool', 'content': 'res', 'tool_call_id': 'call_1'}]"));
    }

    /** index >= last_user_idx in thinking mode: \n\n<think>. */
    @Test
    void toolResultBlockAfterLastUserOpensThinking() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"false\">1</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>res</result>\n</function_results>\n\n<think>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'id': 'call_1', 'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1}'}}]}, {'role': 'tool', 'content': 'res'}]"));
    }

    /** Before the last user message: \n\n</think>. */
    @Test
    void toolResultBlockBeforeLastUserClosesThinking() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n<" + DSML + "parameter name=\"a\" string=\"false\">1</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>res</result>\n</function_results>\n\n</think>done" + EOS + USER + "next" + ASSISTANT + "<think>",
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'id': 'call_1', 'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1}'}}]}, {'role': 'tool', 'content': 'res'}, {'role': 'assistant', 'content': 'done'}, {'role': 'user', 'content': 'next'}]"));
    }

    /** One result per call, matched by position; tool_call_id ignored. */
    @Test
    void parallelResultsInCallOrder() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"b\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>B?</result>\n<result>A?</result>\n</function_results>\n\n<think>r2</think>final" + EOS,
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'id': 'id_a', 'type': 'function', 'function': {'name': 'a', 'arguments': '{}'}}, {'id': 'id_b', 'type': 'function', 'function': {'name': 'b', 'arguments': '{}'}}]}, {'role': 'tool', 'content': 'B?', 'tool_call_id': 'id_b'}, {'role': 'tool', 'content': 'A?', 'tool_call_id': 'id_a'}, {'role': 'assistant', 'content': 'final', 'reasoning_content': 'r2'}]"));
    }

    /** Fewer results than calls: no </function_results>, no error (§5.3). */
    @Test
    void missingToolResultLeavesTheBlockOpen() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "<think>r</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"b\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>only one</result>",
                encode(encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'type': 'function', 'function': {'name': 'a', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'b', 'arguments': '{}'}}]}, {'role': 'tool', 'content': 'only one'}]"));
    }

    /** More results than calls: No tool calls but found tool output (§5.8). */
    @Test
    void extraToolResultFails() {
        // official: AssertionError: No tool calls but found tool output
        assertFails("messages[3]", encoder(ThinkingMode.THINKING, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'reasoning_content': 'r', 'tool_calls': [{'id': 'call_1', 'type': 'function', 'function': {'name': 'f', 'arguments': '{\\'a\\': 1}'}}]}, {'role': 'tool', 'content': '1'}, {'role': 'tool', 'content': '2'}]");
    }

    /** A tool message must follow an assistant (or other tool results). */
    @Test
    void toolResultAfterUserFails() {
        // official: AssertionError: Invalid messages at 1: {'role': 'user', 'content': 'q'}
        assertFails("messages[1]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'tool', 'content': 'x'}]");
    }

    /** The preceding assistant has no tool_calls. */
    @Test
    void toolResultAfterAssistantWithoutCallsFails() {
        // official: AssertionError: No tool calls but found tool output
        assertFails("messages[2]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}, {'role': 'tool', 'content': 'x'}]");
    }

    /** str(content): None, dicts, numbers. */
    @Test
    void toolResultContentIsStr() {
        assertEquals(BOS + USER + "q" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"a\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"b\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"c\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS + "\n\n<function_results>\n<result>None</result>\n<result>{'ok': True}</result>\n<result>3.0</result>\n</function_results>\n\n</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'a', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'b', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'c', 'arguments': '{}'}}]}, {'role': 'tool', 'content': null}, {'role': 'tool', 'content': {'ok': true}}, {'role': 'tool', 'content': 3.0}]"));
    }

    /** Quirk (§5.8): for a tool message first in the list Python reads messages[-1]. */
    @Test
    void leadingToolMessageUsesTheLastMessage() {
        assertEquals(BOS + "\n\n<function_results>\n<result>r</result>\n</function_results>\n\n</think>" + USER + "u" + ASSISTANT + "</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'tool', 'content': 'r'}, {'role': 'user', 'content': 'u'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{}'}}]}]"));
    }

    /** The wrap-around result block is before last_user_idx, so it ends with </think>. */
    @Test
    void leadingToolMessageInThinkingMode() {
        assertEquals(BOS + "\n\n<function_results>\n<result>r1</result>" + USER + "u" + ASSISTANT + "<think>t</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"f\">\n\n</" + DSML + "invoke>\n<" + DSML + "invoke name=\"g\">\n\n</" + DSML + "invoke>\n</" + DSML + "function_calls>" + EOS,
                encode(encoder(ThinkingMode.THINKING, false, true), null, "[{'role': 'tool', 'content': 'r1'}, {'role': 'user', 'content': 'u'}, {'role': 'assistant', 'content': null, 'reasoning_content': 't', 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'g', 'arguments': '{}'}}]}]"));
    }

    /** messages[-1] has no tool_calls. */
    @Test
    void leadingToolMessageFailsWhenTheLastMessageHasNoCalls() {
        // official: AssertionError: No tool calls but found tool output
        assertFails("messages[0]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'tool', 'content': 'r'}, {'role': 'user', 'content': 'u'}]");
    }

    /** The second one finds no assistant before it. */
    @Test
    void twoLeadingToolMessagesFail() {
        // official: AssertionError: Invalid messages at 1: {'role': 'assistant', 'content': None, 'tool_calls': [{'t
        assertFails("messages[1]", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'tool', 'content': 'r'}, {'role': 'tool', 'content': 's'}, {'role': 'user', 'content': 'u'}, {'role': 'assistant', 'content': null, 'tool_calls': [{'type': 'function', 'function': {'name': 'f', 'arguments': '{}'}}, {'type': 'function', 'function': {'name': 'g', 'arguments': '{}'}}]}]");
    }

    /** Context is not rendered, so len(tool_calls) is all that is read (here len("ab") == 2). */
    @Test
    void toolResultsCountLenOfAContextAssistantsToolCalls() {
        assertEquals("\n\n<function_results>\n<result>x</result>\n<result>y</result>\n</function_results>\n\n</think>",
                encode(encoder(ThinkingMode.CHAT, true, true), "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'tool_calls': 'ab'}]", "[{'role': 'tool', 'content': 'x'}, {'role': 'tool', 'content': 'y'}]"));
    }

    /** NotImplementedError: Unknown role (§5.8). */
    @Test
    void unknownRoleFails() {
        // official: NotImplementedError: Unknown role: model
        assertFails("messages[0].role", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'model', 'content': 'x'}]");
    }

    /** role None is unknown. */
    @Test
    void missingRoleFails() {
        // official: NotImplementedError: Unknown role: None
        assertFails("messages[0].role", encoder(ThinkingMode.CHAT, true, true), null, "[{'content': 'x'}]");
    }

    /** "User" is not "user". */
    @Test
    void roleIsCaseSensitive() {
        // official: NotImplementedError: Unknown role: User
        assertFails("messages[0].role", encoder(ThinkingMode.CHAT, true, true), null, "[{'role': 'User', 'content': 'x'}]");
    }

    /** Context messages are read (not rendered) for tool results. */
    @Test
    void errorInContextIsNamedInContext() {
        // official: AssertionError: No tool calls but found tool output
        assertFails("messages[0]", encoder(ThinkingMode.CHAT, true, true), "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'no calls'}]", "[{'role': 'tool', 'content': 'x'}]");
    }

    // ---- ModelVariant.SPECIALE (model card: no tool calling)

    private static final ChatEncoder SPECIALE = ChatEncoder.builder().variant(ModelVariant.SPECIALE).build();

    @Test
    void specialeRejectsTools() {
        assertFails("messages[0].tools", SPECIALE, null,
                "[{'role': 'system', 'content': 's', 'tools': [{'type': 'function', 'function': {'name': 'f'}}]}, {'role': 'user', 'content': 'q'}]");
    }

    @Test
    void specialeRejectsToolCallsAndResults() {
        assertFails("context[1].tool_calls", SPECIALE,
                "[{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'tool_calls': [{'function': {'name': 'f', 'arguments': '{}'}}]}]",
                "[{'role': 'tool', 'content': 'r'}]");
        assertFails("messages[0].role", SPECIALE, null, "[{'role': 'tool', 'content': 'r'}]");
    }

    @Test
    void specialeEncodesPlainConversationsLikeTheStandardModel() {
        String msgs = "[{'role': 'system', 'content': 's', 'tools': []}, {'role': 'user', 'content': 'q'}, {'role': 'assistant',"
                + " 'content': 'a', 'reasoning_content': 'r', 'tool_calls': []}, {'role': 'user', 'content': 'q2'}]";
        assertEquals(BOS + "s" + USER + "q" + ASSISTANT + "</think>a" + EOS + USER + "q2" + ASSISTANT + "<think>", encode(SPECIALE, null, msgs));
        assertEquals(encode(ChatEncoder.defaults(), null, msgs), encode(SPECIALE, null, msgs));
    }

    // ---- typed API

    @Test
    void typedMessagesEncodeLikeTheirJson() {
        ObjectMapperHolder h = new ObjectMapperHolder();
        List<Message> typed = List.of(
                Message.system("sys").withTools(List.of(Tool.function("get_weather", "Get weather", h.schema))),
                Message.user("q"),
                Message.assistant(null, "r", List.of(ToolCall.of("get_weather", "{\"city\": \"Paris\", \"days\": 2}").withId("c1"))),
                Message.tool("c1", "sunny"),
                Message.assistant("done", "r2", null));
        String expected = BOS + "sys\n\n" + TOOLS_HEAD
                + "{\"name\": \"get_weather\", \"description\": \"Get weather\", \"parameters\": {\"type\": \"object\"}}\n</functions>\n"
                + USER + "q" + ASSISTANT + "<think>r</think>\n\n<" + DSML + "function_calls>\n<" + DSML + "invoke name=\"get_weather\">\n<"
                + DSML + "parameter name=\"city\" string=\"true\">Paris</" + DSML + "parameter>\n<" + DSML
                + "parameter name=\"days\" string=\"false\">2</" + DSML + "parameter>\n</" + DSML + "invoke>\n</" + DSML
                + "function_calls>" + EOS + "\n\n<function_results>\n<result>sunny</result>\n</function_results>\n\n<think>r2</think>done" + EOS;
        ChatEncoder enc = ChatEncoder.defaults();
        assertEquals(expected, enc.encode(typed));
        List<JsonNode> asJson = new ArrayList<>();
        for (Message m : typed) asJson.add(PythonJson.mapper().valueToTree(m));
        assertEquals(expected, enc.encodeJson(asJson));
    }

    @Test
    void typedContextSplitsLikeJson() {
        List<Message> context = List.of(Message.user("q"));
        List<Message> messages = List.of(Message.assistant("a", "r", null));
        assertEquals("r</think>a" + EOS, ChatEncoder.defaults().encode(context, messages));
    }

    @Test
    void typedUserWithoutContentRendersNoneLikePython() {
        Message noContent = new Message(Role.USER, null, null, null, null, null, null, null);
        assertEquals(BOS + USER + "None" + ASSISTANT + "</think>",
                ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build().encode(List.of(noContent)));
    }

    @Test
    void builderDefaultsMatchTheOfficialTest() {
        ChatEncoder d = ChatEncoder.defaults();
        assertEquals(ThinkingMode.THINKING, d.thinkingMode());
        assertTrue(d.dropThinking());
        assertTrue(d.addBosToken());
        assertEquals(ModelVariant.STANDARD, d.variant());
        ChatEncoder c = d.toBuilder().thinkingMode(ThinkingMode.CHAT).build();
        assertEquals(ThinkingMode.CHAT, c.thinkingMode());
        assertEquals(ThinkingMode.THINKING, d.thinkingMode());
    }

    private static final class ObjectMapperHolder {
        final JsonNode schema = PythonJson.loads("{\"type\": \"object\"}");
    }
}
