package dev.dsv32.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * An in-process stand-in for an OpenAI-compatible server's {@code /v1/completions} (as vLLM and SGLang answer it:
 * SSE chunks of {@code choices[0].text}, a finish_reason, a usage chunk, {@code [DONE]}; the end-of-sentence token is
 * not in the text). Loopback only.
 */
final class FakeCompletionsServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to answer to one request. */
    record Reply(String text, String finishReason, int status, boolean sse, long stallMillis) {
        static Reply stop(String text) {
            return new Reply(text, "stop", 200, true, 0);
        }
    }

    final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final Function<JsonNode, Reply> script;
    volatile int chunkChars = 5;
    volatile boolean clientClosed;

    FakeCompletionsServer(Function<JsonNode, Reply> script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/completions", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            JsonNode body = JSON.readTree(ex.getRequestBody());
            requests.add(body);
            authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            Reply r = script.apply(body);
            if (r.status() != 200) {
                byte[] err = ("{\"error\":{\"message\":\"model overloaded\"}}").getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(r.status(), err.length);
                ex.getResponseBody().write(err);
                return;
            }
            String text = r.text();
            int prompt = body.path("prompt").asText().length() / 4;
            if (!r.sse()) {
                ObjectNode resp = JSON.createObjectNode();
                resp.putArray("choices").addObject().put("index", 0).put("text", text).put("finish_reason", r.finishReason());
                resp.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", text.length() / 3);
                byte[] b = JSON.writeValueAsBytes(resp);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream out = ex.getResponseBody();
            try {
                int step = chunkChars;
                for (int i = 0; i < text.length(); i += step) {
                    int end = Math.min(text.length(), i + step);
                    if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end++;
                    send(out, chunk(text.substring(i, end), null));
                    if (r.stallMillis() > 0 && i == 0) Thread.sleep(r.stallMillis());
                    i = end - step;
                }
                send(out, chunk("", r.finishReason()));
                ObjectNode usage = JSON.createObjectNode();
                usage.putArray("choices");
                usage.putObject("usage").put("prompt_tokens", prompt).put("completion_tokens", text.length() / 3)
                        .putObject("prompt_tokens_details").put("cached_tokens", requests.size() > 1 ? prompt / 2 : 0);
                send(out, usage.toString());
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                clientClosed = true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String chunk(String text, String finish) {
        ObjectNode c = JSON.createObjectNode();
        c.put("id", "cmpl-1").put("object", "text_completion");
        ObjectNode ch = c.putArray("choices").addObject().put("index", 0).put("text", text);
        if (finish == null) ch.putNull("finish_reason");
        else ch.put("finish_reason", finish);
        return c.toString();
    }

    private static void send(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
