package dev.dsv32.langchain4j;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** AiServices with an @Tool class through Dsv32ChatModel, on scripted completions (the real encoder, parser, scheduler). */
class AiServicesToolRoundTripTest {
    interface Assistant {
        String chat(String message);
    }

    static final class Calculator {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Tool("Multiplies two integers")
        public long multiply(@P("the first factor") long a, @P("the second factor") long b) {
            calls.add(a + "*" + b);
            return a * b;
        }
    }

    @Test
    void aToolCallIsRunByAiServicesAndItsResultReachesTheModel() {
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.call("I should multiply.", "multiply", "a", "12", "b", "34"),
                Dsml.answer("The tool said 408.", "12 x 34 = 408."));
        Calculator calculator = new Calculator();
        try (Model model = Model.builder().engine(engine).build()) {
            Assistant assistant = AiServices.builder(Assistant.class)
                    .chatModel(Dsv32ChatModel.builder().model(model).build())
                    .chatMemory(MessageWindowChatMemory.withMaxMessages(20))
                    .tools(calculator)
                    .build();

            assertEquals("12 x 34 = 408.", assistant.chat("What is 12 times 34?"));

            assertEquals(List.of("12*34"), calculator.calls);
            List<String> prompts = engine.prompts();
            assertEquals(2, prompts.size());
            // The tool specification AiServices derived from @Tool, rendered by our encoder into the system prompt.
            assertTrue(prompts.get(0).contains("## Tools") && prompts.get(0).contains("\"name\": \"multiply\"")
                    && prompts.get(0).contains("Multiplies two integers") && prompts.get(0).contains("the first factor"), prompts.get(0));
            // The second turn: the call (with its reasoning: thinking with tools keeps it) and the tool's result.
            String second = prompts.get(1);
            assertTrue(second.contains("I should multiply.</think>"), second);
            assertTrue(second.contains("<result>408</result>"), second);
            assertEquals(0, model.metrics().openSequences());
        }
    }

    @Test
    void doChatMapsToolCallsUsageAndFinishReasons() {
        ScriptedEngine engine = ScriptedEngine.of(Dsml.call("Need it.", "multiply", "a", "2", "b", "3"), Dsml.answer("Done.", "6"));
        try (Model model = Model.builder().engine(engine).build()) {
            Dsv32ChatModel chat = Dsv32ChatModel.builder().model(model).modelName("dsv32-test").build();
            var spec = dev.langchain4j.agent.tool.ToolSpecifications.toolSpecificationsFrom(Calculator.class);
            ChatResponse first = chat.chat(ChatRequest.builder().messages(UserMessage.from("2*3?")).toolSpecifications(spec).build());
            assertEquals(FinishReason.TOOL_EXECUTION, first.finishReason());
            assertEquals("dsv32-test", first.modelName());
            AiMessage ai = first.aiMessage();
            assertEquals("Need it.", ai.thinking());
            assertNull(ai.text());
            ToolExecutionRequest call = ai.toolExecutionRequests().get(0);
            assertEquals("multiply", call.name());
            assertEquals("{\"a\":2,\"b\":3}", call.arguments().replace(" ", ""));
            assertNotNull(call.id());
            assertTrue(first.tokenUsage().inputTokenCount() > 20, "prompt tokens: " + first.tokenUsage());
            assertTrue(first.tokenUsage().outputTokenCount() > 10, "completion tokens: " + first.tokenUsage());

            ChatResponse second = chat.chat(ChatRequest.builder()
                    .messages(UserMessage.from("2*3?"), ai, ToolExecutionResultMessage.from(call, "6"))
                    .toolSpecifications(spec).build());
            assertEquals(FinishReason.STOP, second.finishReason());
            assertEquals("6", second.aiMessage().text());
            assertTrue(engine.prompts().get(1).contains("<result>6</result>"));
        }
    }

    @Test
    void unsupportedParametersAreRefusedByName() {
        try (Model model = Model.builder().engine(ScriptedEngine.of("x")).build()) {
            Dsv32ChatModel chat = Dsv32ChatModel.builder().model(model).build();
            var e = assertThrows(dev.langchain4j.exception.UnsupportedFeatureException.class, () -> chat.chat(ChatRequest.builder()
                    .messages(UserMessage.from("hi")).frequencyPenalty(0.5).build()));
            assertTrue(e.getMessage().contains("frequencyPenalty"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> Dsv32ChatModel.builder().build());
        }
    }
}
