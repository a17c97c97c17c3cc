package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Event;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.api.Session;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.api.tools.Agent;
import dev.dsv32.api.tools.AgentResult;
import dev.dsv32.api.tools.Param;
import dev.dsv32.api.tools.Tool;
import dev.dsv32.api.tools.ToolRegistry;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tokens;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * dsv32-api's remote backend ({@code Model.builder().remote(url)}, raw {@code /v1/completions} over SSE) against
 * `serve`: the same generate / stream / session / agent behaviour as RemoteModelTest checks against its fake server.
 */
class RemoteBackendTest {
    public static final class Tools {
        @Tool("Weather in a city")
        public String weather(@Param(name = "city", value = "the city") String city) {
            return "sunny in " + city;
        }
    }

    @Test
    void generateAndStreamWithToolsOverTheRealServer() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(p -> p.contains("## Tools")
                ? "Need the weather." + "</think>" + ServeFixture.weatherCall("Hangzhou") : "The user greets me.</think>Hello! 你好 🌍");
        try (Model local = Model.builder().engine(engine).build();
             OpenAiServer s = ServeFixture.serve(local, "deepseek-ai/DeepSeek-V3.2", "sk-remote", false);
             Model remote = Model.builder().remote(s.baseUrl()).apiKey("sk-remote").build()) {
            GenerateRequest plain = GenerateRequest.builder().messages(Message.system("Be kind."), Message.user("Hi")).seed(42).build();
            GenerateResult r = remote.generate(plain);
            assertEquals("The user greets me.", r.reasoning());
            assertEquals("Hello! 你好 🌍", r.content());
            assertEquals(FinishReason.STOP, r.finishReason());
            assertTrue(r.text().endsWith(Tokens.EOS) && !r.text().substring(0, r.text().length() - Tokens.EOS.length()).contains(Tokens.EOS),
                    "the end-of-sentence token once, from finish_reason stop: " + r.text());
            assertEquals(local.promptTokens(plain), r.usage().promptTokens(), "usage comes from the server");
            assertEquals(dev.dsv32.encoding.ChatEncoder.defaults().encode(plain.messages()), engine.prompts().get(0),
                    "the server continued exactly the prompt the client encoded");

            GenerateRequest weather = GenerateRequest.builder().messages(Message.user("Weather?"))
                    .tools(ToolRegistry.builder().add(new Tools()).build().specs()).build();
            List<Event> events = new CopyOnWriteArrayList<>();
            GenerateResult t = remote.stream(weather, events::add).get(60, TimeUnit.SECONDS);
            assertEquals(FinishReason.TOOL_CALLS, t.finishReason());
            assertEquals("{\"city\": \"Hangzhou\"}", t.toolCalls().get(0).arguments());
            assertTrue(events.stream().anyMatch(e -> e instanceof Event.ToolCallStarted st && st.name().equals("weather")));
            StringBuilder reasoning = new StringBuilder();
            for (Event e : events) if (e instanceof Event.ReasoningDelta d) reasoning.append(d.text());
            assertEquals("Need the weather.", reasoning.toString());

            GenerateResult stopped = remote.generate(plain.toBuilder().stop("你好").build());
            assertEquals(FinishReason.STOP_STRING, stopped.finishReason());
            assertEquals("Hello! ", stopped.content());
        }
    }

    @Test
    void agentLoopAndSessionsOverTheRealServer() throws Exception {
        try (Model local = ServeFixture.weatherAgent();
             OpenAiServer s = ServeFixture.serve(local, "deepseek-ai/DeepSeek-V3.2", null, false);
             Model remote = Model.builder().remote(s.baseUrl()).build()) {
            AgentResult r = Agent.builder(remote).tools(ToolRegistry.builder().add(new Tools()).build()).build().run("Oslo weather?");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals("The weather: sunny in Oslo.", r.content());
            assertEquals("sunny in Oslo", r.invocations().get(0).result());

            try (Session session = remote.newSession()) {
                GenerateResult first = session.send(Message.user("First"));
                assertEquals(FinishReason.TOOL_CALLS, first.finishReason());
                GenerateResult second = session.send(Message.tool(first.toolCalls().get(0).id(), "cloudy"));
                assertEquals("The weather: cloudy.", second.content());
                assertEquals(4, session.history().size());
            }
        }
    }

    @Test
    void lengthFinishAndHttpErrorsReachTheRemoteClient() throws Exception {
        try (Model local = Model.builder().engine(ScriptedEngine.of(p -> "Still thinking about it for a long while")).build();
             OpenAiServer s = ServeFixture.serve(local, "deepseek-ai/DeepSeek-V3.2", null, false);
             Model remote = Model.builder().remote(s.baseUrl()).build();
             Model wrongName = Model.builder().remote(s.baseUrl()).remoteModel("other").build()) {
            GenerateResult r = remote.generate(GenerateRequest.builder().messages(Message.user("hi")).maxTokens(3).build());
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(3, r.usage().completionTokens());
            assertFalse(r.text().endsWith(Tokens.EOS));
            dev.dsv32.Dsv32Exception e = assertThrows(dev.dsv32.Dsv32Exception.class, () -> wrongName.generate(GenerateRequest.of("hi")));
            assertTrue(e.getMessage().contains("HTTP 404") && e.getMessage().contains("model_not_found"), e.getMessage());
        }
    }
}
