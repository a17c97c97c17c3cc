package dev.dsv32.langchain4j;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Dsv32StreamingChatModel: thinking and content arrive separately, then the whole turn; tools through AiServices. */
class StreamingTest {
    @Test
    void thinkingAndContentArriveThroughTheirOwnCallbacks() throws Exception {
        String reasoning = "The user greets me; I answer politely and briefly.";
        String content = "Hello! How can I help you today?";
        try (Model model = Model.builder().engine(ScriptedEngine.of(Dsml.answer(reasoning, content))).build()) {
            List<String> thinking = new CopyOnWriteArrayList<>();
            List<String> partial = new CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            Dsv32StreamingChatModel.builder().model(model).build().chat(
                    ChatRequest.builder().messages(UserMessage.from("Hi")).build(), new StreamingChatResponseHandler() {
                        @Override
                        public void onPartialThinking(PartialThinking t) {
                            assertFalse(done.isDone());
                            thinking.add(t.text());
                        }

                        @Override
                        public void onPartialResponse(String text) {
                            assertFalse(done.isDone());
                            partial.add(text);
                        }

                        @Override
                        public void onCompleteResponse(ChatResponse r) {
                            done.complete(r);
                        }

                        @Override
                        public void onError(Throwable e) {
                            done.completeExceptionally(e);
                        }
                    });
            ChatResponse r = done.get(30, TimeUnit.SECONDS);
            assertTrue(thinking.size() > 1 && partial.size() > 1, "token by token: " + thinking + " / " + partial);
            assertEquals(reasoning, String.join("", thinking));
            assertEquals(content, String.join("", partial));
            assertEquals(reasoning, r.aiMessage().thinking());
            assertEquals(content, r.aiMessage().text());
            assertEquals(FinishReason.STOP, r.finishReason());
            assertTrue(r.tokenUsage().outputTokenCount() > 10 && r.tokenUsage().inputTokenCount() > 3, "usage: " + r.tokenUsage());
        }
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    static final class Clock {
        @Tool("The current time in a city")
        public String time(@P("the city") String city) {
            return "10:30 in " + city;
        }
    }

    @Test
    void aiServicesStreamsAToolRoundTrip() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of(
                Dsml.call("I need the clock.", "time", "city", "\"Paris\""),
                Dsml.answer("The tool answered.", "It is 10:30 in Paris."));
        try (Model model = Model.builder().engine(engine).build()) {
            StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class)
                    .streamingChatModel(Dsv32StreamingChatModel.builder().model(model).build())
                    .tools(new Clock())
                    .build();
            StringBuilder thinking = new StringBuilder();
            StringBuilder content = new StringBuilder();
            List<String> toolResults = new CopyOnWriteArrayList<>();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            assistant.chat("What time is it in Paris?")
                    .onPartialThinking(t -> thinking.append(t.text()))
                    .onPartialResponse(content::append)
                    .onToolExecuted(t -> toolResults.add(t.result()))
                    .onCompleteResponse(done::complete)
                    .onError(done::completeExceptionally)
                    .start();
            ChatResponse r = done.get(30, TimeUnit.SECONDS);
            assertEquals(List.of("10:30 in Paris"), toolResults);
            assertEquals("I need the clock.The tool answered.", thinking.toString());
            assertEquals("It is 10:30 in Paris.", content.toString());
            assertEquals("It is 10:30 in Paris.", r.aiMessage().text());
            assertTrue(engine.prompts().get(1).contains("<result>10:30 in Paris</result>"), engine.prompts().get(1));
        }
    }
}
