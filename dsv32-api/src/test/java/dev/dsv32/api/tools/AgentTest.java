package dev.dsv32.api.tools;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.Dsv32Exception;
import dev.dsv32.api.FinishReason;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.Model;
import dev.dsv32.api.Variant;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Role;
import dev.dsv32.encoding.Tokens;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The agent loop against prescribed completions (ScriptedEngine): everything but the forward pass is real. */
class AgentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    enum Unit { CELSIUS, FAHRENHEIT }

    record Weather(String city, double temperature, Unit unit) {}

    public static final class WeatherTools {
        final Map<String, Integer> calls = new ConcurrentHashMap<>();

        @Tool("Current weather in a city")
        public Weather get_weather(@Param("City name") String city, @Param(value = "Temperature unit", required = false) Optional<Unit> unit) {
            calls.merge(city, 1, Integer::sum);
            return new Weather(city, city.length() * 2.5, unit.orElse(Unit.CELSIUS));
        }

        @Tool(name = "explode", value = "Always fails")
        public String explode(@Param("why") String why) {
            throw new IllegalStateException("boom: " + why);
        }
    }

    private static Model model(ScriptedEngine engine) {
        return Model.builder().engine(engine).build();
    }

    @Test
    void oneCallThenAnswer() {
        WeatherTools tools = new WeatherTools();
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.calls("Need the weather.", Dsml.invoke("get_weather", "city", "Hangzhou")),
                Dsml.answer("It is mild.", "Hangzhou: 20 degrees."));
        try (Model model = model(engine)) {
            Agent agent = Agent.builder(model).tools(ToolRegistry.builder().add(tools).build()).build();
            AgentResult r = agent.run("Weather in Hangzhou?");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals("Hangzhou: 20 degrees.", r.content());
            assertEquals(2, r.steps());
            assertEquals(1, r.invocations().size());
            ToolInvocation inv = r.invocations().get(0);
            assertFalse(inv.error(), inv.result());
            assertEquals(Map.of("Hangzhou", 1), tools.calls);
            assertEquals("{\"city\":\"Hangzhou\",\"temperature\":20.0,\"unit\":\"CELSIUS\"}", inv.result());
            // The conversation: user, assistant (call), tool, assistant (answer).
            List<Role> roles = r.messages().stream().map(Message::role).toList();
            assertEquals(List.of(Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT), roles);
            assertEquals("Need the weather.", r.messages().get(1).reasoningContent());
            // The second prompt carries the tool result and continues the first one (the session reused it).
            List<String> prompts = engine.prompts();
            assertEquals(2, prompts.size());
            assertTrue(prompts.get(0).contains("## Tools") && prompts.get(0).contains("\"name\": \"get_weather\""), prompts.get(0));
            assertTrue(prompts.get(1).startsWith(prompts.get(0)), "the second prompt extends the first");
            assertTrue(prompts.get(1).endsWith("<function_results>\n<result>" + inv.result() + "</result>\n</function_results>\n\n<think>"),
                    prompts.get(1));
            assertEquals(0, model.metrics().openSequences(), "the agent's session was closed");
        }
    }

    @Test
    void severalCallsRunInParallelAndResultsKeepCallOrder() throws Exception {
        CountDownLatch both = new CountDownLatch(2);
        ToolRegistry reg = ToolRegistry.builder().add("slow", "Waits for the other call", JSON.readTree(
                "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}"), args -> {
                    both.countDown();
                    // Both calls must be running at once for this to return within the timeout.
                    if (!both.await(5, TimeUnit.SECONDS)) throw new IllegalStateException("calls did not run in parallel");
                    return "n=" + args.get("n").asInt();
                }).build();
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.calls("Two at once.", Dsml.invoke("slow", "n", 1), Dsml.invoke("slow", "n", 2)),
                Dsml.answer("Done.", "1 and 2"));
        try (Model model = model(engine)) {
            AgentResult r = Agent.builder(model).tools(reg).build().run("go");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals(List.of("n=1", "n=2"), r.invocations().stream().map(ToolInvocation::result).toList());
            assertTrue(r.invocations().stream().noneMatch(ToolInvocation::error));
            assertTrue(engine.prompts().get(1).contains("<result>n=1</result>\n<result>n=2</result>"), engine.prompts().get(1));
            // Ids are distinct and carried into the tool messages.
            List<Message> toolMsgs = r.messages().stream().filter(m -> m.role() == Role.TOOL).toList();
            assertEquals(2, toolMsgs.size());
            assertNotEquals(toolMsgs.get(0).toolCallId(), toolMsgs.get(1).toolCallId());
        }
    }

    @Test
    void throwingToolBecomesAnErrorResultTheModelSees() {
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.calls("Try it.", Dsml.invoke("explode", "why", "testing")),
                Dsml.answer("It failed.", "Sorry, the tool failed."));
        try (Model model = model(engine)) {
            AgentResult r = Agent.builder(model).tools(ToolRegistry.builder().add(new WeatherTools()).build()).build().run("go");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            ToolInvocation inv = r.invocations().get(0);
            assertTrue(inv.error());
            JsonNode err = JSON.readTree(inv.result());
            assertEquals("tool explode failed: IllegalStateException: boom: testing", err.get("error").asText());
            assertTrue(engine.prompts().get(1).contains("<result>" + inv.result() + "</result>"));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void toolTimeoutBecomesAnErrorResult() throws Exception {
        ToolRegistry reg = ToolRegistry.builder().add("hang", "Never returns", JSON.readTree("{\"type\":\"object\",\"properties\":{}}"), args -> {
            Thread.sleep(60_000);
            return "late";
        }).build();
        ScriptedEngine engine = ScriptedEngine.of(Dsml.calls("Call it.", Dsml.invoke("hang")), Dsml.answer("Gave up.", "Timed out."));
        try (Model model = model(engine)) {
            long t0 = System.nanoTime();
            AgentResult r = Agent.builder(model).tools(reg).toolTimeout(Duration.ofMillis(200)).build().run("go");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20));
            assertTrue(r.invocations().get(0).error());
            assertTrue(r.invocations().get(0).result().contains("hang timed out after 200 ms"), r.invocations().get(0).result());
            assertEquals("Timed out.", r.content());
        }
    }

    @Test
    void malformedCallIsRepairedByTheLenientParser() {
        // No "\n\n" before the block, the invoke never closed, no EOS: the strict parser rejects it.
        String broken = "Need it.</think>\n<" + Tokens.DSML + "function_calls>\n<" + Tokens.DSML + "invoke name=\"get_weather\">\n<"
                + Tokens.DSML + "parameter name=\"city\" string=\"true\">Paris</" + Tokens.DSML + "parameter>\n</" + Tokens.DSML + "function_calls>";
        WeatherTools tools = new WeatherTools();
        ScriptedEngine engine = ScriptedEngine.of(broken, Dsml.answer("Ok.", "Paris is fine."));
        try (Model model = model(engine)) {
            AgentResult r = Agent.builder(model).tools(ToolRegistry.builder().add(tools).build()).build().run("Paris?");
            assertEquals(AgentResult.StopReason.FINAL_ANSWER, r.stopReason());
            assertEquals(Map.of("Paris", 1), tools.calls);
            assertFalse(r.invocations().get(0).error());
            assertEquals("{\"city\": \"Paris\"}", r.invocations().get(0).call().arguments());
        }
    }

    @Test
    void undeclaredToolAndInvalidArgumentsAreReportedToTheModel() {
        WeatherTools tools = new WeatherTools();
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.calls("Calls.", Dsml.invoke("get_stock", "symbol", "X"), Dsml.invoke("get_weather", "city", 42),
                        Dsml.invoke("get_weather", "city", "Rome", "unit", "KELVIN")),
                Dsml.answer("Hmm.", "I could not."));
        try (Model model = model(engine)) {
            AgentResult r = Agent.builder(model).tools(ToolRegistry.builder().add(tools).build()).build().run("go");
            assertEquals(3, r.invocations().size());
            assertTrue(r.invocations().stream().allMatch(ToolInvocation::error));
            assertTrue(tools.calls.isEmpty(), "no tool ran");
            assertTrue(r.invocations().get(0).result().contains("unknown tool \\\"get_stock\\\"; the available tools are [explode, get_weather]"),
                    r.invocations().get(0).result());
            assertTrue(r.invocations().get(1).result().contains("$.city: expected string, got integer 42"), r.invocations().get(1).result());
            assertTrue(r.invocations().get(2).result().contains("$.unit: string \\\"KELVIN\\\" is not one of [\\\"CELSIUS\\\",\\\"FAHRENHEIT\\\"]"),
                    r.invocations().get(2).result());
            assertEquals("I could not.", r.content());
        }
    }

    @Test
    void maxStepsEndsTheLoop() {
        ScriptedEngine engine = ScriptedEngine.of(p -> Dsml.calls("Again.", Dsml.invoke("get_weather", "city", "Oslo")));
        WeatherTools tools = new WeatherTools();
        try (Model model = model(engine)) {
            AgentResult r = Agent.builder(model).tools(ToolRegistry.builder().add(tools).build()).maxSteps(3).build().run("loop");
            assertEquals(AgentResult.StopReason.MAX_STEPS, r.stopReason());
            assertEquals(3, r.steps());
            assertEquals(3, engine.prompts().size());
            assertEquals(Map.of("Oslo", 3), tools.calls);
            assertEquals(FinishReason.TOOL_CALLS, r.last().finishReason());
            assertEquals(0, model.metrics().openSequences());
        }
    }

    @Test
    void specialeRejectsTools() {
        try (Model model = Model.builder().engine(ScriptedEngine.of("x")).variant(Variant.SPECIALE).build()) {
            Dsv32Exception e = assertThrows(Dsv32Exception.class,
                    () -> Agent.builder(model).tools(ToolRegistry.builder().add(new WeatherTools()).build()).build());
            assertTrue(e.getMessage().contains("Speciale does not support tool calling"), e.getMessage());
            // A request with tools is rejected too, before anything runs.
            Dsv32Exception e2 = assertThrows(Dsv32Exception.class, () -> model.generate(GenerateRequest.builder()
                    .messages(Message.user("hi")).tools(ToolRegistry.builder().add(new WeatherTools()).build().specs()).build()));
            assertTrue(e2.getMessage().contains("Speciale does not support tool calling"), e2.getMessage());
            // Without tools, Speciale works.
            assertNotNull(Agent.builder(model).build());
        }
    }
}
