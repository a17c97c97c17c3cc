package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The official test script (encoding.md §9), case by case: three byte-exact outputs and two parser round trips. */
class OfficialVectorsTest {
    private final ChatEncoder encoder = ChatEncoder.builder()
            .thinkingMode(ThinkingMode.THINKING).dropThinking(true).addBosToken(true).build();

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private List<JsonNode> mainConversation() {
        JsonNode d = Fixtures.json("test_input.json");
        List<JsonNode> messages = list(d.get("messages"));
        ((ObjectNode) messages.get(0)).set("tools", d.get("tools"));
        return messages;
    }

    @Test
    void resourcesAreTheOfficialBytes() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        String h = HexFormat.of().formatHex(sha.digest(Fixtures.text("test_output.txt").getBytes(StandardCharsets.UTF_8)));
        assertEquals("f73f1408469926f0af6d62b00bca62a533e76c1f213692da62c2a053531be0cd", h);
    }

    @Test
    void toolsTemplateIsTheOfficialOne() throws Exception {
        JsonNode t = Fixtures.json("templates.json");
        String template = t.get("templates").get("TOOLS_SYSTEM_TEMPLATE").textValue();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        assertEquals("0cc91e644b79c4f576bbe968ed31a1bc8f825c0a4617730109df29d07f75f79a",
                HexFormat.of().formatHex(sha.digest(template.getBytes(StandardCharsets.UTF_8))));
        assertEquals(t.get("rendered_tools_block_before_schemas").textValue(), ChatEncoder.TOOLS_BLOCK_BEFORE_SCHEMAS);
        assertEquals(t.get("rendered_tools_block_after_schemas").textValue(), ChatEncoder.TOOLS_BLOCK_AFTER_SCHEMAS);
    }

    @Test
    void caseA_toolConversationIsByteExact() {
        assertEquals(Fixtures.strip(Fixtures.text("test_output.txt")), encoder.encodeJson(mainConversation()));
    }

    @Test
    void caseB_parallelToolCallsRoundTrip() {
        List<JsonNode> messages = mainConversation();
        JsonNode m = messages.get(4);
        String completion = encoder.encodeJson(messages.subList(0, 4), List.of(m));
        Message parsed = StrictParser.parse(completion, ThinkingMode.THINKING);
        ObjectNode expected = m.deepCopy();
        for (JsonNode tc : expected.withArray("tool_calls")) ((ObjectNode) tc).remove("id");
        ObjectNode actual = PythonJson.mapper().valueToTree(parsed);
        actual.remove("content");
        assertEquals(expected, actual);
    }

    @Test
    void caseC_reasoningAndContentRoundTrip() {
        List<JsonNode> messages = mainConversation();
        int i = messages.size() - 6;
        JsonNode m = messages.get(i);
        String completion = encoder.encodeJson(messages.subList(0, i), List.of(m));
        Message parsed = StrictParser.parse(completion, ThinkingMode.THINKING);
        ObjectNode actual = PythonJson.mapper().valueToTree(parsed);
        actual.remove("tool_calls");
        assertEquals(m, actual);
    }

    @Test
    void caseD_searchAgentWithoutDate() {
        ArrayNode messages = (ArrayNode) Fixtures.json("test_input_search_wo_date.json").get("messages");
        assertEquals(Fixtures.strip(Fixtures.text("test_output_search_wo_date.txt")), encoder.encodeJson(list(messages)));
    }

    @Test
    void caseE_searchAgentWithDate() {
        ArrayNode messages = (ArrayNode) Fixtures.json("test_input_search_w_date.json").get("messages");
        assertEquals(Fixtures.strip(Fixtures.text("test_output_search_w_date.txt")), encoder.encodeJson(list(messages)));
    }

    @Test
    void typedMessagesEncodeLikeTheirJson() {
        List<JsonNode> json = mainConversation();
        List<Message> typed = new ArrayList<>();
        for (JsonNode n : json) typed.add(PythonJson.mapper().convertValue(n, Message.class));
        assertEquals(Fixtures.strip(Fixtures.text("test_output.txt")), encoder.encode(typed));
    }
}
