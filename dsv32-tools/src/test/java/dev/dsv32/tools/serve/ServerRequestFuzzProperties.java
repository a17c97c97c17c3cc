package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzz target (RELIABILITY.md): the server's request parsing, over HTTP. Arbitrary JSON bodies (biased towards the
 * OpenAI fields, with wrong types, odd numbers, nesting), arbitrary bytes, both endpoints, streaming or not: each
 * answer is a 2xx (a whole response; a stream that ends with {@code [DONE]}) or a 4xx with an OpenAI error body;
 * never a 5xx, never a hang (each request has a 30 s timeout). The model is scripted (a tool call or text, in chat
 * or thinking mode), so the parse and the response paths run, not the engine. Tries: {@code jqwik.tries.default}.
 */
class ServerRequestFuzzProperties {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "sk-fuzz";
    private static final String[] FIELDS = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k",
        "stream", "stream_options", "stop", "tools", "tool_choice", "n", "seed", "response_format", "chat_template_kwargs", "thinking",
        "prompt", "ignore_eos", "logprobs", "echo", "suffix", "presence_penalty", "frequency_penalty", "user", "include_usage"};
    private static final String[] MESSAGE_KEYS = {"role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name", "type", "text"};
    private static final String[] STRINGS = {"tiny", "user", "assistant", "system", "developer", "tool", "function", "auto", "none",
        "required", "text", "json_object", "json_schema", "enabled", "disabled", "", "{}", "{\"city\":\"Oslo\"}", "\uD800", "\u0000",
        "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "</think>", "weather"};

    private static Model model;
    private static OpenAiServer server;
    private static URI base;
    static long ok;
    static long refused;

    @BeforeContainer
    static void start() {
        model = Model.builder().engine(ScriptedEngine.of(prompt -> {
            String call = ServeFixture.weatherCall("Oslo");
            boolean thinking = prompt.endsWith("<think>");
            return (thinking ? "Thinking.</think>" : "") + (prompt.contains("weather") ? call : "Hi there.");
        }).withLimits(4096, 8)).build();
        server = OpenAiServer.builder(model).port(0).modelName("tiny").apiKey(KEY).maxBodyBytes(64 * 1024).build().start();
        base = server.baseUrl();
    }

    @AfterContainer
    static void stop() {
        System.out.println("ServerRequestFuzzProperties: " + ok + " answered 2xx, " + refused + " refused with 4xx");
        if (server != null) server.close();
        if (model != null) model.close();
    }

    static JsonNode value(Random r, int depth) {
        switch (r.nextInt(depth > 2 ? 6 : 9)) {
            case 0: return F.nullNode();
            case 1: return F.booleanNode(r.nextBoolean());
            case 2: return r.nextInt(10) == 0 ? F.numberNode(new java.math.BigDecimal("1e400"))
                    : F.numberNode(new double[] {0, 1, -1, 0.5, 2, 4096, 1e9, -1e300, 3.7}[r.nextInt(9)]);
            case 3: return F.numberNode(new long[] {0, 1, -1, 2, 16, Integer.MAX_VALUE, Long.MIN_VALUE}[r.nextInt(7)]);
            case 4: return F.textNode(STRINGS[r.nextInt(STRINGS.length)]);
            case 5: {
                StringBuilder sb = new StringBuilder();
                for (int i = r.nextInt(10); i > 0; i--) sb.append((char) (r.nextInt(3) == 0 ? r.nextInt(0x10000) : ' ' + r.nextInt(95)));
                return F.textNode(sb.toString());
            }
            case 6: case 7: {
                ObjectNode o = F.objectNode();
                for (int i = r.nextInt(4); i > 0; i--) {
                    String[] keys = r.nextBoolean() ? MESSAGE_KEYS : FIELDS;
                    o.set(keys[r.nextInt(keys.length)], value(r, depth + 1));
                }
                return o;
            }
            default: {
                ArrayNode a = F.arrayNode();
                for (int i = r.nextInt(4); i > 0; i--) a.add(value(r, depth + 1));
                return a;
            }
        }
    }

    /** A request body: mostly a plausible request with a few fields wrong, sometimes any JSON at all. */
    static String body(Random r, boolean chat) {
        if (r.nextInt(12) == 0) return JSON.valueToTree(value(r, 0)).toString();
        ObjectNode o = F.objectNode();
        if (r.nextInt(8) != 0) o.put("model", r.nextInt(10) == 0 ? "gpt-4o" : "tiny");
        if (chat) {
            if (r.nextInt(8) != 0) {
                ArrayNode ms = o.putArray("messages");
                for (int i = 1 + r.nextInt(3); i > 0; i--) {
                    if (r.nextInt(6) == 0) {
                        ms.add(value(r, 1));
                        continue;
                    }
                    ObjectNode m = ms.addObject();
                    m.put("role", new String[] {"user", "system", "assistant", "tool", "developer", "wizard"}[r.nextInt(6)]);
                    m.set("content", r.nextInt(4) == 0 ? value(r, 2) : F.textNode(r.nextBoolean() ? "What is the weather?" : "Hello"));
                    if (r.nextInt(4) == 0) m.set(MESSAGE_KEYS[r.nextInt(MESSAGE_KEYS.length)], value(r, 2));
                }
            }
            if (r.nextInt(3) == 0) {
                ObjectNode fn = o.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "weather");
                try {
                    fn.set("parameters", r.nextInt(3) == 0 ? value(r, 2) : JSON.readTree(ServeFixture.WEATHER_SCHEMA));
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            }
        } else if (r.nextInt(8) != 0) {
            o.set("prompt", r.nextInt(4) == 0 ? value(r, 1) : F.textNode("Once upon a time"));
        }
        if (r.nextBoolean()) o.put("max_tokens", 1 + r.nextInt(8));
        for (int i = r.nextInt(4); i > 0; i--) o.set(FIELDS[r.nextInt(FIELDS.length)], value(r, 1));
        return o.toString();
    }

    /** Posts; checks the answer is a 2xx with a whole response or a 4xx with an OpenAI error body. */
    static int postAndCheck(String path, byte[] body, String what) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> r = ServeFixture.HTTP.send(req, HttpResponse.BodyHandlers.ofString());
        int s = r.statusCode();
        assertTrue(s < 500, "status " + s + " for " + what + ": " + r.body());
        String type = r.headers().firstValue("Content-Type").orElse("");
        if (s >= 400) {
            assertTrue(type.startsWith("application/json"), what);
            JsonNode err = JSON.readTree(r.body()).get("error");
            assertNotNull(err, r.body());
            assertFalse(err.path("message").asText().isBlank(), r.body());
            assertTrue(err.has("type") && err.has("param") && err.has("code"), r.body());
            assertFalse(r.body().contains("Exception") || r.body().contains(".java:"), "internals in " + r.body());
            refused++;
        } else {
            assertEquals(200, s, what);
            if (type.startsWith("text/event-stream")) {
                assertTrue(r.body().endsWith("data: [DONE]\n\n"), "a whole stream for " + what + ": " + r.body());
                assertFalse(r.body().contains("\"error\""), "a failure mid-stream for " + what + ": " + r.body());
            } else {
                assertTrue(JSON.readTree(r.body()).get("choices").isArray(), r.body());
            }
            ok++;
        }
        return s;
    }

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    @Property
    void arbitraryChatBodies(@ForAll("seeds") long seed) throws Exception {
        String body = body(new Random(seed), true);
        postAndCheck("/v1/chat/completions", body.getBytes(StandardCharsets.UTF_8), body);
    }

    @Property
    void arbitraryCompletionBodies(@ForAll("seeds") long seed) throws Exception {
        String body = body(new Random(seed), false);
        postAndCheck("/v1/completions", body.getBytes(StandardCharsets.UTF_8), body);
    }

    /** Bytes that are not JSON (or barely are): truncated requests, binary, deep nesting, odd encodings. */
    @Property
    void arbitraryBytes(@ForAll("seeds") long seed, @ForAll boolean chat) throws Exception {
        Random r = new Random(seed);
        String valid = body(r, chat);
        byte[] b;
        switch (r.nextInt(4)) {
            case 0 -> { b = new byte[r.nextInt(200)]; r.nextBytes(b); }
            case 1 -> b = valid.substring(0, r.nextInt(valid.length() + 1)).getBytes(StandardCharsets.UTF_8);
            case 2 -> b = ("[".repeat(1 + r.nextInt(5000)) + "]".repeat(r.nextInt(5000))).getBytes(StandardCharsets.US_ASCII);
            default -> {
                b = valid.getBytes(StandardCharsets.UTF_8);
                for (int i = 1 + r.nextInt(4); i > 0 && b.length > 0; i--) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
            }
        }
        postAndCheck(chat ? "/v1/chat/completions" : "/v1/completions", b, "bytes of seed " + seed);
    }

    /** Inputs kept as regressions. */
    @Example
    void regressionInputs() throws Exception {
        String[] chat = {
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1e400}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":-1e300}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":-9223372036854775808}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}],\"max_tokens\":2}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":null}]}]}",
            "{\"model\":\"tiny\",\"messages\":[],\"stream\":true}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}",
            "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"weather\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"parameters\":[]}}],\"stream\":true}",
        };
        for (String c : chat) postAndCheck("/v1/chat/completions", c.getBytes(StandardCharsets.UTF_8), c);
        postAndCheck("/v1/completions", "{\"model\":\"tiny\",\"prompt\":[1,2,3]}".getBytes(StandardCharsets.UTF_8), "token prompt");
        postAndCheck("/v1/completions", "{\"model\":\"tiny\",\"prompt\":\"x\",\"stop\":[null]}".getBytes(StandardCharsets.UTF_8), "null stop");
    }
}
