package dev.dsv32.langchain4j;

import static org.junit.jupiter.api.Assertions.*;

import dev.dsv32.api.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** How requests reach the encoder: settings, response formats, refusals; and cancelling a stream. */
class RequestMappingTest {
    @Test
    void settingsAndDefaultsShapeThePrompt() {
        ScriptedEngine engine = ScriptedEngine.of("Hi there.");
        try (Model model = Model.builder().engine(engine).build()) {
            Dsv32ChatModel chat = Dsv32ChatModel.builder().model(model).thinking(false)
                    .defaultRequestParameters(DefaultChatRequestParameters.builder().maxOutputTokens(3).build()).build();
            ChatResponse r = chat.chat(ChatRequest.builder().messages(SystemMessage.from("Be brief."), UserMessage.from("Hello")).build());
            assertEquals("Hi there", r.aiMessage().text().substring(0, 8), "chat mode: no </think> needed");
            assertNull(r.aiMessage().thinking());
            assertEquals(3, r.tokenUsage().outputTokenCount(), "maxOutputTokens from the defaults");
            assertEquals(dev.langchain4j.model.output.FinishReason.LENGTH, r.finishReason());
            String prompt = engine.prompts().get(0);
            assertTrue(prompt.contains("Be brief.") && prompt.endsWith("Hello<｜Assistant｜></think>"), prompt);
        }
    }

    @Test
    void aJsonResponseFormatIsRenderedIntoTheSystemPrompt() {
        ScriptedEngine engine = ScriptedEngine.of("ok</think>{\"city\": \"Paris\"}");
        try (Model model = Model.builder().engine(engine).build()) {
            JsonSchema schema = JsonSchema.builder().name("City")
                    .rootElement(JsonObjectSchema.builder().addStringProperty("city").required("city").build()).build();
            ChatResponse r = Dsv32ChatModel.builder().model(model).build().chat(ChatRequest.builder()
                    .messages(UserMessage.from("Capital of France?"))
                    .responseFormat(ResponseFormat.builder().type(dev.langchain4j.model.chat.request.ResponseFormatType.JSON).jsonSchema(schema).build())
                    .build());
            assertEquals("{\"city\": \"Paris\"}", r.aiMessage().text());
            String prompt = engine.prompts().get(0);
            assertTrue(prompt.contains("## Response Format:") && prompt.contains("\"city\"") && prompt.contains("\"required\""), prompt);
        }
    }

    @Test
    void whatTheModelCannotDoIsRefusedByName() {
        try (Model model = Model.builder().engine(ScriptedEngine.of("x")).build()) {
            Dsv32ChatModel chat = Dsv32ChatModel.builder().model(model).build();
            var spec = dev.langchain4j.agent.tool.ToolSpecification.builder().name("t").description("a tool").build();
            var required = assertThrows(UnsupportedFeatureException.class, () -> chat.chat(ChatRequest.builder()
                    .messages(UserMessage.from("hi")).toolSpecifications(spec).toolChoice(ToolChoice.REQUIRED).build()));
            assertTrue(required.getMessage().contains("toolChoice REQUIRED"), required.getMessage());
            var image = assertThrows(UnsupportedFeatureException.class, () -> chat.chat(ChatRequest.builder()
                    .messages(UserMessage.from(TextContent.from("what is this?"), ImageContent.from("http://example.invalid/x.png"))).build()));
            assertTrue(image.getMessage().startsWith("messages[0]:") && image.getMessage().contains("text only"), image.getMessage());
        }
    }

    @Test
    void cancellingAStreamStopsItAndFreesTheSequence() throws Exception {
        ScriptedEngine engine = ScriptedEngine.of("a long line of reasoning ".repeat(40) + "</think>never reached");
        try (Model model = Model.builder().engine(engine).build()) {
            AtomicInteger after = new AtomicInteger();
            AtomicReference<Throwable> error = new AtomicReference<>();
            CountDownLatch cancelled = new CountDownLatch(1);
            Dsv32StreamingChatModel.builder().model(model).build().chat(ChatRequest.builder().messages(UserMessage.from("think")).build(),
                    new StreamingChatResponseHandler() {
                        @Override
                        public void onPartialThinking(PartialThinking t, PartialThinkingContext ctx) {
                            if (ctx.streamingHandle().isCancelled()) {
                                after.incrementAndGet();
                                return;
                            }
                            ctx.streamingHandle().cancel();
                            cancelled.countDown();
                        }

                        @Override
                        public void onPartialResponse(String s) {
                            after.incrementAndGet();
                        }

                        @Override
                        public void onCompleteResponse(ChatResponse r) {
                            after.incrementAndGet();
                        }

                        @Override
                        public void onError(Throwable e) {
                            error.set(e);
                        }
                    });
            assertTrue(cancelled.await(10, TimeUnit.SECONDS));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (model.metrics().openSequences() > 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            assertEquals(0, model.metrics().openSequences(), "the cancelled request's sequence is freed");
            assertTrue(model.metrics().completionTokens() < 100, "generation stopped early: " + model.metrics().completionTokens());
            assertEquals(0, after.get(), "no callback after cancel");
            assertNull(error.get());
        }
    }
}
