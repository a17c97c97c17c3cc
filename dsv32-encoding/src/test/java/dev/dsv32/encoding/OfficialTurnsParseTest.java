package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every assistant turn of the three official conversations, rendered as the model generated it (the official test's
 * {@code encode([m], context=messages[:i])}): strict, lenient and streaming (one char at a time) parses agree, and
 * the lenient parser reports no repair.
 */
class OfficialTurnsParseTest {

    @ParameterizedTest
    @ValueSource(strings = {"test_input.json", "test_input_search_wo_date.json", "test_input_search_w_date.json"})
    void everyOfficialTurnParsesTheSameThreeWays(String file) {
        JsonNode d = Fixtures.json(file);
        List<JsonNode> messages = new ArrayList<>();
        d.get("messages").forEach(messages::add);
        if (d.has("tools")) ((ObjectNode) messages.get(0)).set("tools", d.get("tools"));
        ChatEncoder encoder = ChatEncoder.defaults();
        int turns = 0;
        for (int i = 0; i < messages.size(); i++) {
            if (!"assistant".equals(messages.get(i).path("role").asText())) continue;
            String completion = encoder.encodeJson(messages.subList(0, i), messages.subList(i, i + 1));
            Message strict = StrictParser.parse(completion, ThinkingMode.THINKING);
            ParseResult lenient = LenientParser.parse(completion, ThinkingMode.THINKING);
            assertEquals(strict, lenient.message(), file + " turn " + i);
            assertEquals(List.of(), lenient.repairs(), file + " turn " + i);
            CompletionTexts.Collected streamed = CompletionTexts.streamCharByChar(completion, ThinkingMode.THINKING, ParseOptions.defaults());
            assertEquals(lenient, streamed.result, file + " turn " + i);
            assertEquals(strict.content(), streamed.content.toString());
            assertEquals(strict.reasoningContent(), streamed.reasoning.toString());
            assertEquals(strict.toolCalls(), streamed.streamedCalls());
            turns++;
        }
        org.junit.jupiter.api.Assertions.assertTrue(turns > 0, "no assistant turn in " + file);
    }
}
