package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.api.Model;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** `serve` over plain HTTP on tiny_chat: malformed requests, auth, endpoints, metrics, 32 concurrent streams, disconnects. */
class ServeHttpTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk-http";
    static Model tiny;
    static OpenAiServer server;
    static URI base;

    @BeforeAll
    static void start() {
        tiny = ServeFixture.tinyChat();
        server = ServeFixture.serve(tiny, "tiny_chat", KEY, false);
        base = server.baseUrl();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (tiny != null) tiny.close();
    }

    private static String chatBody(String extra) {
        return "{\"model\":\"tiny_chat\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":4,\"temperature\":0" + extra + "}";
    }

    /** Posts {@code body}; checks the status and the OpenAI error body; returns the error object. */
    private static JsonNode refused(String path, String body, String key, int status) throws Exception {
        HttpResponse<String> r = ServeFixture.post(base, path, body, key);
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode err = JSON.readTree(r.body()).get("error");
        assertNotNull(err, r.body());
        assertTrue(err.get("message").isTextual() && !err.get("message").asText().isEmpty(), r.body());
        assertTrue(err.get("type").isTextual(), r.body());
        assertTrue(err.has("param") && err.has("code"), r.body());
        return err;
    }

    private static void assertStillServing() throws Exception {
        HttpResponse<String> r = ServeFixture.post(base, "/v1/chat/completions", chatBody(""), KEY);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("chat.completion", JSON.readTree(r.body()).get("object").asText());
    }

    @Test
    void malformedRequestsGetOpenAiStyle4xxAndTheServerKeepsServing() throws Exception {
        String p = "/v1/chat/completions";
        assertEquals("invalid_json", refused(p, "{\"model\": ", KEY, 400).get("code").asText());
        refused(p, "[1, 2]", KEY, 400);
        refused(p, "", KEY, 400);
        assertEquals("messages", refused(p, "{\"model\":\"tiny_chat\"}", KEY, 400).get("param").asText());
        assertEquals("model", refused(p, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", KEY, 400).get("param").asText());
        JsonNode wrong = refused(p, "{\"model\":\"tiny_chat\",\"messages\":\"Hello\"}", KEY, 400);
        assertEquals("invalid_type", wrong.get("code").asText());
        assertEquals("temperature", refused(p, chatBody(",\"temperature\":\"hot\"").replace(",\"temperature\":0,", ","), KEY, 400).get("param").asText());
        assertEquals("max_tokens", refused(p, chatBody("").replace("\"max_tokens\":4", "\"max_tokens\":1.5"), KEY, 400).get("param").asText());
        assertEquals("stream", refused(p, chatBody(",\"stream\":\"yes\""), KEY, 400).get("param").asText());
        assertEquals("messages[0].content", refused(p, "{\"model\":\"tiny_chat\",\"messages\":[{\"role\":\"user\",\"content\":42}]}", KEY, 400).get("param").asText());
        assertEquals("messages[0].role", refused(p, "{\"model\":\"tiny_chat\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", KEY, 400).get("param").asText());
        assertEquals("messages[0].role", refused(p, "{\"model\":\"tiny_chat\",\"messages\":[{\"content\":\"x\"}]}", KEY, 400).get("param").asText());
        String tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"parameters\":" + ServeFixture.WEATHER_SCHEMA + "}}]";
        assertEquals("tool_choice", refused(p, chatBody(tools + ",\"tool_choice\":\"sometimes\""), KEY, 400).get("param").asText());
        assertEquals("tool_choice", refused(p, chatBody(tools + ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"weather\"}}"), KEY, 400).get("param").asText());
        assertEquals("tools[0].function", refused(p, chatBody(",\"tools\":[{\"type\":\"function\"}]"), KEY, 400).get("param").asText());
        assertEquals("model_not_found", refused(p, chatBody("").replace("tiny_chat", "gpt-4o"), KEY, 404).get("code").asText());
        assertEquals("invalid_api_key", refused(p, chatBody(""), null, 401).get("code").asText());
        assertEquals("invalid_api_key", refused(p, chatBody(""), "sk-wrong", 401).get("code").asText());
        assertEquals("prompt", refused("/v1/completions", "{\"model\":\"tiny_chat\"}", KEY, 400).get("param").asText());
        assertEquals("not_found", refused("/v1/embeddings", "{}", KEY, 404).get("code").asText());

        // Context too long: the prompt alone fills tiny_chat's 512-token context here.
        String longText = "hello ".repeat(600);
        JsonNode ctx = refused(p, chatBody("").replace("\"Hello\"", "\"" + longText + "\""), KEY, 400);
        assertEquals("context_length_exceeded", ctx.get("code").asText());
        assertTrue(ctx.get("message").asText().contains("512"), ctx.toString());
        assertEquals("context_length_exceeded", refused("/v1/completions",
                "{\"model\":\"tiny_chat\",\"prompt\":\"" + longText + "\"}", KEY, 400).get("code").asText());

        // A 10 MB body is refused without being parsed.
        String huge = chatBody("").replace("\"Hello\"", "\"" + "x".repeat(10 * 1024 * 1024) + "\"");
        assertEquals("request_too_large", refused(p, huge, KEY, 413).get("code").asText());

        HttpResponse<String> get = ServeFixture.HTTP.send(HttpRequest.newBuilder(base.resolve(p)).header("Authorization", "Bearer " + KEY).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertStillServing();
        assertTrue(ServeFixture.metric(base, KEY, "dsv32_http_errors_total{class=\"4xx\"}") >= 24);
    }

    @Test
    void modelsHealthMetricsAndRawCompletions() throws Exception {
        assertEquals(200, ServeFixture.get(base, "/health").statusCode(), "health needs no key");
        HttpResponse<String> models = ServeFixture.HTTP.send(HttpRequest.newBuilder(base.resolve("/v1/models"))
                .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode data = JSON.readTree(models.body()).get("data");
        assertEquals("tiny_chat", data.get(0).get("id").asText());
        assertEquals(512, data.get(0).get("max_model_len").asInt());

        double before = ServeFixture.metric(base, KEY, "dsv32_completion_tokens_total");
        HttpResponse<String> c = ServeFixture.post(base, "/v1/completions",
                "{\"model\":\"tiny_chat\",\"prompt\":\"Hello\",\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true}", KEY);
        assertEquals(200, c.statusCode(), c.body());
        JsonNode body = JSON.readTree(c.body());
        assertEquals("text_completion", body.get("object").asText());
        assertEquals("length", body.get("choices").get(0).get("finish_reason").asText());
        assertEquals(5, body.get("usage").get("completion_tokens").asInt());
        assertEquals(before + 5, ServeFixture.metric(base, KEY, "dsv32_completion_tokens_total"), "metrics come from the model's scheduler");
        String text = ServeFixture.get(base, "/metrics", KEY).body();
        assertTrue(text.contains("# TYPE dsv32_open_sequences gauge"), text);
        assertTrue(text.contains("# TYPE dsv32_requests_completed_total counter"), text);
    }

    /** Streams one chat request; returns the SSE data lines. */
    private static List<String> streamChat(int maxTokens) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/chat/completions")).timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(chatBody(",\"stream\":true").replace("\"max_tokens\":4", "\"max_tokens\":" + maxTokens)))
                .build();
        HttpResponse<java.util.stream.Stream<String>> r = ServeFixture.HTTP.send(req, HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        return r.body().filter(l -> l.startsWith("data: ")).toList();
    }

    @Test
    void thirtyTwoConcurrentStreamingClientsAllFinish() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<List<String>>> clients = new ArrayList<>();
            for (int i = 0; i < 32; i++) clients.add(pool.submit(() -> streamChat(6)));
            for (Future<List<String>> f : clients) {
                List<String> lines = f.get(300, TimeUnit.SECONDS);
                assertEquals("data: [DONE]", lines.get(lines.size() - 1));
                JsonNode finish = JSON.readTree(lines.get(lines.size() - 2).substring(6)).get("choices").get(0).get("finish_reason");
                assertTrue(finish.isTextual(), lines.toString());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, ServeFixture.metric(base, KEY, "dsv32_open_sequences"));
        assertEquals(0, ServeFixture.metric(base, KEY, "dsv32_http_active_streams"));
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsSequence() throws Exception {
        double disconnects = ServeFixture.metric(base, KEY, "dsv32_http_client_disconnects_total");
        double tokens = ServeFixture.metric(base, KEY, "dsv32_completion_tokens_total");
        HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/completions")).timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"tiny_chat\",\"prompt\":\"Hello\",\"max_tokens\":480,\"temperature\":0,\"ignore_eos\":true,\"stream\":true}"))
                .build();
        HttpResponse<InputStream> r = ServeFixture.HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
        int data = 0;
        while (data < 2) {
            String line = in.readLine();
            assertNotNull(line, "the stream ended early");
            if (line.startsWith("data: ")) data++;
        }
        assertEquals(1, ServeFixture.metric(base, KEY, "dsv32_open_sequences"), "the request is running");
        in.close(); // the client goes away mid-stream

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while ((ServeFixture.metric(base, KEY, "dsv32_http_client_disconnects_total") == disconnects
                || ServeFixture.metric(base, KEY, "dsv32_open_sequences") != 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(disconnects + 1, ServeFixture.metric(base, KEY, "dsv32_http_client_disconnects_total"));
        assertEquals(0, ServeFixture.metric(base, KEY, "dsv32_open_sequences"), "the sequence was freed");
        assertEquals(0, ServeFixture.metric(base, KEY, "dsv32_active_requests"));
        double generated = ServeFixture.metric(base, KEY, "dsv32_completion_tokens_total") - tokens;
        assertTrue(generated < 480, "cancelled before max_tokens: " + generated + " tokens generated");
        assertStillServing();
    }
}
