package dev.dsv32.api;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.tools.Agent;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tokens;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The same API against a remote /v1/completions server (an in-process fake on loopback). */
class RemoteModelTest {
    private static final String D = Tokens.DSML;

    static String toolCall(String reasoning, String city) {
        return reasoning + "</think>\n\n<" + D + "function_calls>\n<" + D + "invoke name=\"weather\">\n<" + D
                + "parameter name=\"city\" string=\"true\">" + city + "</" + D + "parameter>\n</" + D + "invoke>\n</" + D + "function_calls>";
    }

    public static final class Tools {
        @Tool("Weather in a city")
        public String weather(@Param("the city") String city) {
            return "sunny in " + city;
        }
    }

    @Test
    void generateSendsTheEncodedPromptAndParsesTheCompletion() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> FakeCompletionsServer.Reply.stop("The user greets me.</think>Hello! 你好 🌍"));
             Model model = Model.builder().remote(server.url()).apiKey("sk-test").build()) {
            GenerateRequest req = GenerateRequest.builder().messages(Message.system("Be kind."), Message.user("Hi"))
                    .temperature(0.6).topP(0.9).topK(20).seed(42).maxTokens(100).build();
            GenerateResult r = model.generate(req);
            assertEquals("The user greets me.", r.reasoning());
            assertEquals("Hello! 你好 🌍", r.content());
            assertEquals(FinishReason.STOP, r.finishReason());
            assertTrue(r.repairs().isEmpty(), r.repairs().toString());
            assertTrue(r.text().endsWith(Tokens.EOS), "finish_reason stop is the end-of-sentence token");
            JsonNode body = server.requests.get(0);
            assertEquals(ChatEncoder.defaults().encode(req.messages()), body.get("prompt").asText());
            assertEquals("deepseek-ai/DeepSeek-V3.2", body.get("model").asText());
            assertFalse(body.get("skip_special_tokens").asBoolean(true));
            assertTrue(body.get("stream").asBoolean());
            assertEquals(100, body.get("max_tokens").asInt());
            assertEquals(0.6, body.get("temperature").asDouble());
            assertEquals(0.9, body.get("top_p").asDouble());
            assertEquals(20, body.get("top_k").asInt());
            assertEquals(42, body.get("seed").asLong());
            assertEquals("Bearer sk-test", server.authorizations.get(0));
            assertEquals(body.get("prompt").asText().length() / 4, r.usage().promptTokens(), "usage comes from the server");
            assertEquals(0, model.maxContext());
            assertNull(model.backend());
        }
    }

    @Test
    void streamingGivesTheSameEventsAsLocally() throws Exception {
        String completion = toolCall("Need the weather.", "Hangzhou");
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> FakeCompletionsServer.Reply.stop(completion));
             Model model = Model.builder().remote(server.url()).build()) {
            server.chunkChars = 3; // markers split across chunks
            GenerateRequest req = GenerateRequest.builder().messages(Message.user("Weather?"))
                    .tools(ToolRegistry.builder().add(new Tools()).build().specs()).build();
            List<Event> events = new CopyOnWriteArrayList<>();
            GenerateResult r = model.stream(req, events::add).get(30, TimeUnit.SECONDS);
            assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
            assertEquals(1, r.toolCalls().size());
            assertEquals("{\"city\": \"Hangzhou\"}", r.toolCalls().get(0).arguments());
            assertTrue(events.stream().anyMatch(e -> e instanceof Event.ToolCallStarted s && s.name().equals("weather")));
            assertTrue(events.stream().anyMatch(e -> e instanceof Event.ToolCallCompleted c && c.call().equals(r.toolCalls().get(0))));
            StringBuilder reasoning = new StringBuilder();
            for (Event e : events) if (e instanceof Event.ReasoningDelta d) reasoning.append(d.text());
            assertEquals("Need the weather.", reasoning.toString());
            assertTrue(events.get(events.size() - 1) instanceof Event.Final);
            assertTrue(server.requests.get(0).get("prompt").asText().contains("## Tools"));
        }
    }

    @Test
    void agentLoopWorksOverTheRemoteBackend() throws Exception {
        ArrayDeque<String> replies = new ArrayDeque<>(List.of(toolCall("Check it.", "Oslo"), "Got it.</think>Sunny in Oslo."));
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> FakeCompletionsServer.Reply.stop(replies.poll()));
             Model model = Model.builder().remote(server.url()).build()) {
            AgentResult r = Agent.builder(model).tools(ToolRegistry.builder().add(new Tools()).build()).build().run("Oslo weather?");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals("Sunny in Oslo.", r.content());
            assertEquals("sunny in Oslo", r.invocations().get(0).result());
            String second = server.requests.get(1).get("prompt").asText();
            assertTrue(second.startsWith(server.requests.get(0).get("prompt").asText()), "the conversation grows");
            assertTrue(second.endsWith("<result>sunny in Oslo</result>\n</function_results>\n\n<think>"), second);
        }
    }

    @Test
    void stopStringsAreMatchedHereAndCloseTheStream() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> FakeCompletionsServer.Reply.stop("Thinking.</think>one two THREE four five")) ;
             Model model = Model.builder().remote(server.url()).build()) {
            GenerateResult r = model.generate(GenerateRequest.builder().messages(Message.user("count")).stop("THREE").build());
            assertEquals(FinishReason.STOP_STRING, r.finishReason());
            assertEquals("one two ", r.content());
            assertFalse(server.requests.get(0).has("stop"), "stop strings are ours, not the server's");
        }
    }

    @Test
    void nonStreamingJsonAndLengthFinish() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> new FakeCompletionsServer.Reply("Still thinking about", "length", 200, false, 0));
             Model model = Model.builder().remote(server.url()).build()) {
            GenerateResult r = model.generate(GenerateRequest.of("hi"));
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals("Still thinking about", r.reasoning());
            assertFalse(r.text().endsWith(Tokens.EOS));
        }
    }

    @Test
    void httpErrorsNameTheStatusAndTheServersMessage() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> new FakeCompletionsServer.Reply("", "stop", 503, true, 0));
             Model model = Model.builder().remote(server.url()).build()) {
            Dsv32Exception e = assertThrows(Dsv32Exception.class, () -> model.generate(GenerateRequest.of("hi")));
            assertTrue(e.getMessage().contains("HTTP 503") && e.getMessage().contains("model overloaded")
                    && e.getMessage().contains(server.url() + "/v1/completions"), e.getMessage());
        }
    }

    @Test
    void timeoutAndCancellationCloseTheConnection() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> new FakeCompletionsServer.Reply("Slow thoughts that never end", "stop", 200, true, 30_000));
             Model model = Model.builder().remote(server.url()).build()) {
            GenerateResult r = model.generate(GenerateRequest.builder().messages(Message.user("hi")).timeout(Duration.ofMillis(300)).build());
            assertEquals(FinishReason.TIMEOUT, r.finishReason());
            assertEquals("Slow ", r.reasoning(), "what arrived before the timeout");

            List<Event> events = new CopyOnWriteArrayList<>();
            CompletableFuture<GenerateResult> f = model.stream(GenerateRequest.of("hi"), events::add);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (events.isEmpty() && System.nanoTime() < end) Thread.sleep(5);
            f.cancel(true);
            end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!(events.get(events.size() - 1) instanceof Event.Final) && System.nanoTime() < end) Thread.sleep(5);
            assertEquals(FinishReason.CANCELLED, ((Event.Final) events.get(events.size() - 1)).result().finishReason());
        }
    }

    @Test
    void sessionsSendTheWholeConversationAndReportTheServersCache() throws Exception {
        try (FakeCompletionsServer server = new FakeCompletionsServer(b -> FakeCompletionsServer.Reply.stop("Hm.</think>Answer."));
             Model model = Model.builder().remote(server.url()).build();
             Session s = model.newSession()) {
            s.send(Message.user("First"));
            GenerateResult second = s.send(Message.user("Second"));
            String p2 = server.requests.get(1).get("prompt").asText();
            assertTrue(p2.contains("First") && p2.contains("Answer.") && p2.endsWith("Second<｜Assistant｜><think>"), p2);
            assertEquals(p2.length() / 4 / 2, second.usage().cachedTokens());
            assertEquals(4, s.history().size());
        }
    }
}
