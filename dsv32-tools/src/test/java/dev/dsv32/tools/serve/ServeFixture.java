package dev.dsv32.tools.serve;

import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.encoding.Tokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Models and servers for the end-to-end tests: tiny_chat (random weights) and scripted completions. */
final class ServeFixture {
    static final String D = Tokens.DSML;
    static final String WEATHER_SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"the city\"}},\"required\":[\"city\"]}";

    private ServeFixture() {}

    /** tiny_chat with a short context (cheap KV cache) and room for the load test's 32 clients. */
    static Model tinyChat() {
        return Model.builder().tinyChat().maxContext(512).maxSequences(40).build();
    }

    static OpenAiServer serve(Model model, String name, String apiKey, boolean thinking) {
        return OpenAiServer.builder(model).port(0).modelName(name).apiKey(apiKey).defaultThinking(thinking).build().start();
    }

    /** The DSML a V3.2 model writes to call weather(city) (after the reasoning and {@code </think>} in thinking mode). */
    static String weatherCall(String city) {
        return "\n\n<" + D + "function_calls>\n<" + D + "invoke name=\"weather\">\n<" + D
                + "parameter name=\"city\" string=\"true\">" + city + "</" + D + "parameter>\n</" + D + "invoke>\n</" + D + "function_calls>";
    }

    /**
     * A scripted model that calls weather(Oslo) and, once the prompt holds the tool's result, answers with it. In
     * thinking mode the completions start with reasoning.
     */
    static Model weatherAgent() {
        return Model.builder().engine(ScriptedEngine.of(prompt -> {
            boolean thinking = prompt.endsWith("<think>");
            int r = prompt.lastIndexOf("<result>");
            if (r >= 0) {
                String result = prompt.substring(r + "<result>".length(), prompt.indexOf("</result>", r));
                return (thinking ? "I have the result.</think>" : "") + "The weather: " + result + ".";
            }
            return (thinking ? "I should look it up.</think>" : "") + weatherCall("Oslo");
        })).build();
    }

    /** A scripted model whose every completion is {@code completion}. */
    static Model scripted(String completion) {
        return Model.builder().engine(ScriptedEngine.of(p -> completion)).build();
    }

    static HttpResponse<String> get(URI base, String path) throws IOException, InterruptedException {
        return get(base, path, null);
    }

    /** GET with {@code Authorization: Bearer apiKey} (none when null). */
    static HttpResponse<String> get(URI base, String path, String apiKey) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(URI base, String path, String body, String apiKey) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    /** The value of a metric line {@code name value} in Prometheus text ({@code /metrics} needs the API key, if any). */
    static double metric(URI base, String apiKey, String name) throws IOException, InterruptedException {
        for (String line : get(base, "/metrics", apiKey).body().split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError("no metric " + name);
    }
}
