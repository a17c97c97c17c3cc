package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Role;
import dev.dsv32.encoding.Tool;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class GenerateRequestTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void defaultsAreTheModelCardsAndValidationNamesTheField() {
        GenerateRequest r = GenerateRequest.of("hi");
        assertEquals(1.0, r.temperature());
        assertEquals(0.95, r.topP());
        assertEquals(0, r.topK());
        assertTrue(r.thinking());
        assertTrue(r.dropThinking());
        assertTrue(r.seed().isEmpty());
        assertEquals(4096, r.maxTokens());
        assertNull(r.timeout());
        GenerateRequest.Builder b = GenerateRequest.builder();
        assertEquals("temperature must be finite and >= 0 (0 = greedy), got -1.0",
                assertThrows(IllegalArgumentException.class, () -> b.temperature(-1)).getMessage());
        assertEquals("topK must be >= 0 (0 = off), got -2", assertThrows(IllegalArgumentException.class, () -> b.topK(-2)).getMessage());
        assertEquals("maxTokens must be >= 1, got 0", assertThrows(IllegalArgumentException.class, () -> b.maxTokens(0)).getMessage());
        assertEquals("stop[1] is empty", assertThrows(IllegalArgumentException.class, () -> b.stop("x", "")).getMessage());
        assertEquals("timeout must be > 0, got PT0S", assertThrows(IllegalArgumentException.class, () -> b.timeout(Duration.ZERO)).getMessage());
        assertEquals("messages[1]", assertThrows(NullPointerException.class, () -> b.messages(java.util.Arrays.asList(Message.user("a"), null))).getMessage());
        // toBuilder keeps everything.
        GenerateRequest full = GenerateRequest.builder().messages(Message.user("x")).temperature(0.3).topP(0.5).topK(4).seed(9)
                .maxTokens(7).stop("END").timeout(Duration.ofSeconds(3)).thinking(false).dropThinking(false).build();
        assertEquals(full.toString(), full.toBuilder().build().toString());
    }

    @Test
    void toolsAndResponseFormatAreRenderedOnTheSystemMessage() throws Exception {
        Tool t = Tool.function("now", "Current time", JSON.readTree("{\"type\":\"object\",\"properties\":{}}"));
        GenerateRequest noSystem = GenerateRequest.builder().messages(Message.user("time?")).tools(List.of(t)).build();
        List<Message> enc = noSystem.encodedMessages();
        assertEquals(List.of(Role.SYSTEM, Role.USER), enc.stream().map(Message::role).toList());
        assertEquals(List.of(t), enc.get(0).tools());
        String prompt = ChatEncoder.defaults().encode(enc);
        assertTrue(prompt.startsWith("<｜begin▁of▁sentence｜>\n\n## Tools"), prompt);

        GenerateRequest withSystem = GenerateRequest.builder().messages(Message.system("Be brief."), Message.user("time?"))
                .tools(List.of(t)).responseFormat(JSON.readTree("{\"type\":\"object\"}")).build();
        List<Message> enc2 = withSystem.encodedMessages();
        assertEquals(2, enc2.size());
        String p2 = ChatEncoder.defaults().encode(enc2);
        assertTrue(p2.startsWith("<｜begin▁of▁sentence｜>Be brief.\n\n## Tools"), p2);
        assertTrue(p2.contains("## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n{\"type\": \"object\"}"), p2);
        assertEquals(withSystem.messages(), List.of(Message.system("Be brief."), Message.user("time?")), "the request itself is unchanged");
    }
}
