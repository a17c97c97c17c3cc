package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.tools.Dsv32Cli;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Server hardening (RELIABILITY.md): no endpoint but {@code /health} answers without the key, the key comparison,
 * rate limits, slow clients, no stack traces in any error body (ours or Jetty's), loopback by default.
 */
class ServerHardeningTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "sk-hardening-0123456789";
    static Model model;
    static OpenAiServer server;
    static URI base;

    @BeforeAll
    static void start() {
        model = Model.builder().engine(ScriptedEngine.of(p -> "Hi.")).build();
        server = OpenAiServer.builder(model).port(0).modelName("scripted").apiKey(KEY).idleTimeoutMillis(1500)
                .bodyTimeoutMillis(2000).build().start();
        base = server.baseUrl();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (model != null) model.close();
    }

    /** A raw HTTP/1.1 exchange (no client-side normalisation of the path): the status line and the whole answer. */
    static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static int status(String answer) {
        return Integer.parseInt(answer.substring(9, 12));
    }

    static void assertNoInternals(String body) {
        for (String leak : List.of("\tat ", ".java:", "Exception", "Caused by", "org.eclipse.jetty", "dev.dsv32.")) {
            assertFalse(body.contains(leak), "error body shows '" + leak.strip() + "': " + body);
        }
    }

    @Test
    void everyEndpointButHealthNeedsTheKey() throws Exception {
        List<String> gets = List.of("/metrics", "/metrics/", "/v1/models", "/v1/models/scripted", "/v1/nothing", "/nothing", "/",
                "//metrics", "/v1//models", "/./metrics", "/v1/../metrics", "/v1/%2e%2e/metrics", "/%6detrics", "/METRICS", "/metrics?x=1",
                "/metrics;x", "/health/../metrics", "/health/x");
        for (String path : gets) {
            for (String method : List.of("GET", "POST")) {
                String a = raw(server.port(), method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                int st = status(a);
                assertTrue(st == 401 || st == 400, method + " " + path + " without the key: " + a);
                assertFalse(a.contains("dsv32_") || a.contains("scripted"), method + " " + path + " leaked: " + a);
            }
        }
        // With the key, metrics and models answer; health answers either way but names nothing without it.
        assertEquals(200, ServeFixture.get(base, "/metrics", KEY).statusCode());
        assertEquals(200, ServeFixture.get(base, "/v1/models", KEY).statusCode());
        HttpResponse<String> h = ServeFixture.get(base, "/health");
        assertEquals(200, h.statusCode());
        assertEquals("{\"status\":\"ok\"}", h.body());
        assertEquals(405, ServeFixture.post(base, "/health", "{}", null).statusCode());
    }

    @Test
    void onlyTheExactKeyIsAccepted() throws Exception {
        String body = "{\"model\":\"scripted\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
        for (String k : List.of("", "sk", KEY.substring(0, KEY.length() - 1), KEY + "0", KEY.toUpperCase(), " " + KEY + "x", KEY + KEY)) {
            HttpResponse<String> r = ServeFixture.post(base, "/v1/chat/completions", body, k);
            assertEquals(401, r.statusCode(), "key '" + k + "'");
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
            assertEquals("invalid_api_key", JSON.readTree(r.body()).get("error").get("code").asText());
        }
        String basic = raw(server.port(), "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + KEY + "\r\nConnection: close\r\n\r\n");
        assertEquals(401, status(basic));
        String lower = raw(server.port(), "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " + KEY + "\r\nConnection: close\r\n\r\n");
        assertEquals(401, status(lower), "the scheme is compared exactly");
        assertEquals(200, ServeFixture.post(base, "/v1/chat/completions", body, KEY).statusCode());
    }

    @Test
    void rateLimitedClientsGet429WithRetryAfterAndHealthIsNotLimited() throws Exception {
        try (Model m = Model.builder().engine(ScriptedEngine.of(p -> "Hi.")).build();
             OpenAiServer s = OpenAiServer.builder(m).port(0).modelName("scripted").rateLimit(0.5, 3).build().start()) {
            String body = "{\"model\":\"scripted\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
            for (int i = 0; i < 3; i++) assertEquals(200, ServeFixture.post(s.baseUrl(), "/v1/chat/completions", body, null).statusCode());
            HttpResponse<String> r = ServeFixture.post(s.baseUrl(), "/v1/chat/completions", body, null);
            assertEquals(429, r.statusCode(), r.body());
            JsonNode err = JSON.readTree(r.body()).get("error");
            assertEquals("rate_limit_exceeded", err.get("code").asText());
            long retry = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retry >= 1 && retry <= 2, "Retry-After " + retry);
            assertEquals(429, ServeFixture.get(s.baseUrl(), "/v1/models").statusCode());
            assertEquals(200, ServeFixture.get(s.baseUrl(), "/health").statusCode(), "health is not limited");
        }
    }

    @Test
    void rateLimiterRefillsAndForgetsIdleClients() {
        RateLimiter l = new RateLimiter(2, 2);
        long t = 0;
        assertEquals(0, l.acquire("a", t));
        assertEquals(0, l.acquire("a", t));
        assertEquals(1, l.acquire("a", t), "empty: one token in 0.5 s, Retry-After rounds up to 1 s");
        assertEquals(0, l.acquire("b", t), "clients have their own buckets");
        assertEquals(0, l.acquire("a", t + 500_000_000L), "half a second later one token is back");
        assertEquals(1, l.acquire("a", t + 500_000_000L));
        for (int i = 0; i < 10_050; i++) l.acquire("c" + i, t);
        l.acquire("z", t + 10_000_000_000L); // everyone is full again: the table is cleared
        assertTrue(l.clients() < 100, "clients " + l.clients());
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, 0));
        assertThrows(IllegalArgumentException.class, () -> OpenAiServer.builder(model).rateLimit(Double.NaN, 1));
    }

    @Test
    void aClientThatStallsOrTricklesIsCutAndOthersAreServed() throws Exception {
        long t0 = System.nanoTime();
        // Headers never finished: closed after the idle timeout (1.5 s here).
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, drain(s.getInputStream()), "the server closes a stalled connection");
        }
        double stalled = (System.nanoTime() - t0) / 1e9;
        assertTrue(stalled < 10, "closed after " + stalled + " s");
        // A body trickling at ~20 bytes/s is cut when the 2 s body timeout passes, with a 408.
        long t1 = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY
                    + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            boolean cut = false;
            for (int i = 0; i < 400 && !cut; i++) { // at most 20 s of trickle
                try {
                    out.write('[');
                    out.flush();
                    Thread.sleep(50);
                    if (s.getInputStream().available() > 0) cut = true;
                } catch (IOException e) {
                    cut = true;
                }
            }
            assertTrue(cut, "the trickling client was not cut");
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer to the trickling client", e);
        }
        double trickled = (System.nanoTime() - t1) / 1e9;
        assertTrue(trickled < 15, "cut after " + trickled + " s");
        assertEquals(200, ServeFixture.get(base, "/v1/models", KEY).statusCode(), "the server still serves");
    }

    private static int drain(InputStream in) throws IOException {
        int b;
        do {
            b = in.read();
        } while (b >= 0);
        return b;
    }

    @Test
    void errorBodiesCarryNoStackTraces() throws Exception {
        // Jetty's own refusals: a bad request line, a bad header, headers too large, a bad Content-Length.
        List<String> bad = List.of("GARBAGE\r\n\r\n", "GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(64 * 1024) + "\r\n\r\n",
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /v1/models HTTP/9.9\r\nHost: x\r\n\r\n");
        for (String req : bad) {
            String a = raw(server.port(), req);
            if (a.isEmpty()) continue; // closed without an answer is fine too
            assertTrue(status(a) >= 400 && status(a) <= 505, a);
            assertNoInternals(a.substring(a.indexOf("\r\n\r\n") + 4));
        }
        // Our own 500: an engine whose step throws an unexpected exception.
        try (Model broken = Model.builder().engine(ScriptedEngine.of(p -> {
                 throw new NullPointerException("secret internal detail");
             })).build();
             OpenAiServer s = OpenAiServer.builder(broken).port(0).modelName("broken").build().start()) {
            HttpResponse<String> r = ServeFixture.post(s.baseUrl(), "/v1/chat/completions",
                    "{\"model\":\"broken\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", null);
            assertTrue(r.statusCode() >= 400, r.body());
            assertNoInternals(r.body());
            assertEquals("server_error", JSON.readTree(r.body()).get("error").get("type").asText(), r.body());
        }
    }

    @Test
    void theDefaultBindIsLoopback() throws Exception {
        try (Model m = Model.builder().engine(ScriptedEngine.of(p -> "x")).build();
             OpenAiServer s = OpenAiServer.builder(m).port(0).build().start()) {
            assertEquals("127.0.0.1", s.baseUrl().getHost());
            assertNotEquals(0, s.port());
        }
        CommandLine serve = Dsv32Cli.newCommandLine(new java.io.PrintWriter(java.io.Writer.nullWriter()),
                new java.io.PrintWriter(java.io.Writer.nullWriter()), InputStream.nullInputStream()).getSubcommands().get("serve");
        assertEquals("127.0.0.1", serve.getCommandSpec().findOption("--host").defaultValue());
    }
}
