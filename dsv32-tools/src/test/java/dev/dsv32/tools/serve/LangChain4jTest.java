package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** `serve` driven by LangChain4j's OpenAiChatModel and OpenAiStreamingChatModel. */
class LangChain4jTest {
    private static OpenAiChatModel chat(OpenAiServer s, String name) {
        return OpenAiChatModel.builder().baseUrl(s.baseUrl() + "/v1").apiKey("sk-lc4j").modelName(name).temperature(0.0)
                .maxTokens(name.equals("tiny_chat") ? 8 : 300).returnThinking(true).timeout(Duration.ofSeconds(120)).maxRetries(0).build();
    }

    private static OpenAiStreamingChatModel streaming(OpenAiServer s, String name) {
        return OpenAiStreamingChatModel.builder().baseUrl(s.baseUrl() + "/v1").apiKey("sk-lc4j").modelName(name).temperature(0.0)
                .maxTokens(name.equals("tiny_chat") ? 8 : 300).returnThinking(true).timeout(Duration.ofSeconds(120)).build();
    }

    /** Streams {@code request}; returns the response with the partial texts it saw (thinking first, then text). */
    private static ChatResponse stream(OpenAiStreamingChatModel m, ChatRequest request, StringBuilder text, StringBuilder thinking) throws Exception {
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        m.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                text.append(partial);
            }

            @Override
            public void onPartialThinking(PartialThinking partial) {
                thinking.append(partial.text());
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        return done.get(120, TimeUnit.SECONDS);
    }

    @Test
    void plainAndStreamingChatOnTinyChat() throws Exception {
        try (Model tiny = ServeFixture.tinyChat(); OpenAiServer s = ServeFixture.serve(tiny, "tiny_chat", "sk-lc4j", false)) {
            ChatRequest req = ChatRequest.builder().messages(UserMessage.from("Hello")).build();
            ChatResponse r = chat(s, "tiny_chat").chat(req);
            assertNotNull(r.aiMessage());
            assertTrue(r.tokenUsage().outputTokenCount() >= 1 && r.tokenUsage().outputTokenCount() <= 8, String.valueOf(r.tokenUsage()));
            assertTrue(r.tokenUsage().inputTokenCount() > 0);

            StringBuilder text = new StringBuilder();
            ChatResponse sr = stream(streaming(s, "tiny_chat"), req, text, new StringBuilder());
            assertEquals(String.valueOf(r.aiMessage().text()), String.valueOf(sr.aiMessage().text()), "greedy: the same text both ways");
            assertEquals(sr.aiMessage().text() == null ? "" : sr.aiMessage().text(), text.toString());
            assertEquals(r.finishReason(), sr.finishReason());
        }
    }

    @Test
    void toolRoundTripAndReasoning() throws Exception {
        try (Model m = ServeFixture.weatherAgent(); OpenAiServer s = ServeFixture.serve(m, "dsv32", null, true)) {
            ToolSpecification weather = ToolSpecification.builder().name("weather").description("Weather in a city")
                    .parameters(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
            UserMessage q = UserMessage.from("Weather in Oslo?");
            OpenAiChatModel model = chat(s, "dsv32");
            ChatResponse r1 = model.chat(ChatRequest.builder().messages(q).toolSpecifications(weather).build());
            AiMessage ai = r1.aiMessage();
            assertEquals(FinishReason.TOOL_EXECUTION, r1.finishReason());
            assertEquals("I should look it up.", ai.thinking(), "reasoning_content comes back as thinking");
            ToolExecutionRequest call = ai.toolExecutionRequests().get(0);
            assertEquals("weather", call.name());
            assertEquals("{\"city\": \"Oslo\"}", call.arguments());

            ChatRequest second = ChatRequest.builder().messages(q, ai, ToolExecutionResultMessage.from(call, "rainy"))
                    .toolSpecifications(weather).build();
            ChatResponse r2 = model.chat(second);
            assertEquals("The weather: rainy.", r2.aiMessage().text());
            assertEquals("I have the result.", r2.aiMessage().thinking());

            // Streaming: thinking deltas, then the tool call assembled by LangChain4j.
            StringBuilder thinking = new StringBuilder();
            ChatResponse sr = stream(streaming(s, "dsv32"), ChatRequest.builder().messages(q).toolSpecifications(weather).build(),
                    new StringBuilder(), thinking);
            assertEquals("I should look it up.", thinking.toString());
            assertEquals("weather", sr.aiMessage().toolExecutionRequests().get(0).name());
            assertEquals("{\"city\": \"Oslo\"}", sr.aiMessage().toolExecutionRequests().get(0).arguments());
            StringBuilder text = new StringBuilder();
            ChatResponse sr2 = stream(streaming(s, "dsv32"), second, text, new StringBuilder());
            assertEquals("The weather: rainy.", text.toString());
            assertEquals(FinishReason.STOP, sr2.finishReason());
        }
    }
}
