package dev.dsv32.tools.serve;

import static org.junit.jupiter.api.Assertions.*;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.dsv32.api.testing.ScriptedEngine;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** `serve` driven by the official OpenAI Java SDK: tiny_chat for plain and streamed chat, scripted models for tools and reasoning. */
class OpenAiSdkTest {
    static dev.dsv32.api.Model tiny;
    static OpenAiServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        tiny = ServeFixture.tinyChat();
        server = ServeFixture.serve(tiny, "tiny_chat", "sk-test", false);
        client = client(server, "sk-test");
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (tiny != null) tiny.close();
    }

    static OpenAIClient client(OpenAiServer s, String key) {
        return OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey(key).maxRetries(0).timeout(Duration.ofSeconds(120)).build();
    }

    private static ChatCompletionCreateParams.Builder hello() {
        return ChatCompletionCreateParams.builder().model("tiny_chat").addSystemMessage("Be brief.").addUserMessage("Hello")
                .maxCompletionTokens(8).temperature(0.0);
    }

    @Test
    void plainChatAndStreamingGiveTheSameGreedyText() {
        ChatCompletion c = client.chat().completions().create(hello().build());
        assertEquals("tiny_chat", c.model());
        ChatCompletion.Choice choice = c.choices().get(0);
        String content = choice.message().content().orElse("");
        var usage = c.usage().orElseThrow();
        assertTrue(usage.promptTokens() > 5, "the encoded prompt: " + usage);
        assertTrue(usage.completionTokens() >= 1 && usage.completionTokens() <= 8, usage.toString());
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
        if (usage.completionTokens() == 8) assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());

        StringBuilder streamed = new StringBuilder();
        long[] chunks = {0};
        long[] streamedCompletionTokens = {-1};
        String[] finish = {null};
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                hello().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(ch -> {
                chunks[0]++;
                ch.usage().ifPresent(u -> streamedCompletionTokens[0] = u.completionTokens());
                for (ChatCompletionChunk.Choice cc : ch.choices()) {
                    cc.delta().content().ifPresent(streamed::append);
                    cc.finishReason().ifPresent(f -> finish[0] = f.asString());
                }
            });
        }
        assertEquals(content, streamed.toString(), "greedy: streaming and non-streaming give the same text");
        assertEquals(usage.completionTokens(), streamedCompletionTokens[0]);
        assertEquals(choice.finishReason().asString(), finish[0]);
        assertTrue(chunks[0] >= 3, "role chunk, deltas, finish chunk: " + chunks[0]);
    }

    @Test
    void rawCompletionsModelsAndErrorsThroughTheSdk() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("tiny_chat")
                .prompt("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜></think>").maxTokens(4).temperature(0.0).build());
        assertTrue(c.usage().orElseThrow().completionTokens() <= 4);
        assertFalse(c.choices().get(0).text().contains("<｜end▁of▁sentence｜>"));

        List<Model> models = client.models().list().data();
        assertEquals(List.of("tiny_chat"), models.stream().map(Model::id).toList());

        NotFoundException nf = assertThrows(NotFoundException.class,
                () -> client.chat().completions().create(hello().model("gpt-4o").build()));
        assertTrue(nf.getMessage().contains("model_not_found") || nf.getMessage().contains("does not exist"), nf.getMessage());
        UnauthorizedException ua = assertThrows(UnauthorizedException.class,
                () -> client(server, "wrong").chat().completions().create(hello().build()));
        assertTrue(ua.getMessage().contains("API key"), ua.getMessage());
    }

    private static FunctionDefinition weatherTool() {
        return FunctionDefinition.builder().name("weather").description("Weather in a city")
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city"))).build())
                .build();
    }

    @Test
    void toolRoundTripWithAScriptedModel() {
        try (dev.dsv32.api.Model m = ServeFixture.weatherAgent(); OpenAiServer s = ServeFixture.serve(m, "dsv32", null, false)) {
            OpenAIClient c = client(s, "unused");
            ChatCompletionCreateParams first = ChatCompletionCreateParams.builder().model("dsv32").addUserMessage("Weather in Oslo?")
                    .addFunctionTool(weatherTool()).build();
            ChatCompletion r1 = c.chat().completions().create(first);
            ChatCompletion.Choice ch = r1.choices().get(0);
            assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, ch.finishReason());
            ChatCompletionMessage msg = ch.message();
            ChatCompletionMessageFunctionToolCall call = msg.toolCalls().orElseThrow().get(0).asFunction();
            assertEquals("weather", call.function().name());
            assertEquals(Map.of("city", "Oslo"), parse(call.function().arguments()));

            ChatCompletion r2 = c.chat().completions().create(first.toBuilder().addMessage(msg)
                    .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("sunny, 21 C").build()).build());
            assertEquals(ChatCompletion.Choice.FinishReason.STOP, r2.choices().get(0).finishReason());
            assertEquals("The weather: sunny, 21 C.", r2.choices().get(0).message().content().orElseThrow());

            // The same call streamed: the SDK's chunks carry the call's index, id, name and arguments.
            StringBuilder args = new StringBuilder();
            String[] name = {null};
            String[] finish = {null};
            try (StreamResponse<ChatCompletionChunk> st = c.chat().completions().createStreaming(first)) {
                st.stream().forEach(chunk -> chunk.choices().forEach(cc -> {
                    cc.delta().toolCalls().ifPresent(tcs -> tcs.forEach(tc -> {
                        assertEquals(0, tc.index());
                        tc.function().ifPresent(f -> {
                            f.name().ifPresent(n -> name[0] = n);
                            f.arguments().ifPresent(args::append);
                        });
                    }));
                    cc.finishReason().ifPresent(f -> finish[0] = f.asString());
                }));
            }
            assertEquals("weather", name[0]);
            assertEquals("tool_calls", finish[0]);
            assertEquals(Map.of("city", "Oslo"), parse(args.toString()));
        }
    }

    @Test
    @SuppressWarnings("deprecation") // _additionalProperties(): how the SDK exposes fields OpenAI does not define
    void reasoningContentInMessagesAndDeltas() {
        try (dev.dsv32.api.Model m = dev.dsv32.api.Model.builder().engine(ScriptedEngine.of(p -> "The user greets me.</think>Hello!")).build();
             OpenAiServer s = ServeFixture.serve(m, "dsv32", null, false)) {
            OpenAIClient c = client(s, "unused");
            ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model("dsv32").addUserMessage("Hi")
                    .putAdditionalBodyProperty("chat_template_kwargs", JsonValue.from(Map.of("thinking", true))).build();
            ChatCompletionMessage msg = c.chat().completions().create(p).choices().get(0).message();
            assertEquals("Hello!", msg.content().orElseThrow());
            assertEquals("The user greets me.", msg._additionalProperties().get("reasoning_content").convert(String.class));

            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            try (StreamResponse<ChatCompletionChunk> st = c.chat().completions().createStreaming(p)) {
                st.stream().forEach(chunk -> chunk.choices().forEach(cc -> {
                    JsonValue r = cc.delta()._additionalProperties().get("reasoning_content");
                    if (r != null) reasoning.append(r.convert(String.class));
                    cc.delta().content().ifPresent(content::append);
                }));
            }
            assertEquals("The user greets me.", reasoning.toString());
            assertEquals("Hello!", content.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Map.class);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
