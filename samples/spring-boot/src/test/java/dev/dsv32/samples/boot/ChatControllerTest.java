package dev.dsv32.samples.boot;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.dsv32.api.spi.CacheStats;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;

/** The app on tiny_chat serves both endpoints (random weights: the text is random; counts and finish reasons are not). */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"dsv32.model.max-context=512", "dsv32.model.max-sequences=2"})
class ChatControllerTest {
    @Autowired
    TestRestTemplate http;

    @Autowired
    Model model;

    @Test
    void generateServesATurnFromTinyChat() {
        ResponseEntity<ChatController.ChatReply> resp = http.postForEntity("/generate",
                new ChatController.ChatRequest("Hello!", 16, false), ChatController.ChatReply.class);
        assertEquals(HttpStatus.OK, resp.getStatusCode());
        ChatController.ChatReply r = resp.getBody();
        assertNotNull(r);
        assertTrue(r.completionTokens() >= 1 && r.completionTokens() <= 16, "completion tokens " + r.completionTokens());
        assertTrue(r.finishReason().equals("STOP") || r.finishReason().equals("LENGTH"), r.finishReason());
        assertTrue(r.promptTokens() > 3, "prompt tokens " + r.promptTokens());
        assertEquals("", r.reasoning(), "chat mode has no reasoning");
        // The request's sequence is freed: every KV block is back in the pool.
        CacheStats cache = model.metrics().cache().orElseThrow();
        assertEquals(cache.totalBlocks(), cache.freeBlocks());
        assertEquals(0, model.metrics().openSequences());
    }

    @Test
    void chatGoesThroughSpringAi() {
        ResponseEntity<ChatController.ChatReply> resp = http.postForEntity("/chat",
                new ChatController.ChatRequest("Hello!", 12, true), ChatController.ChatReply.class);
        assertEquals(HttpStatus.OK, resp.getStatusCode());
        ChatController.ChatReply r = resp.getBody();
        assertNotNull(r);
        assertTrue(r.completionTokens() >= 1 && r.completionTokens() <= 12, "completion tokens " + r.completionTokens());
        assertNotNull(r.finishReason());
    }

    @Test
    void aMissingMessageIsABadRequestNamingIt() {
        ResponseEntity<ChatController.ErrorReply> resp = http.postForEntity("/generate",
                new ChatController.ChatRequest(" ", null, null), ChatController.ErrorReply.class);
        assertEquals(HttpStatus.BAD_REQUEST, resp.getStatusCode());
        assertEquals("message is required", resp.getBody().error());
    }
}
