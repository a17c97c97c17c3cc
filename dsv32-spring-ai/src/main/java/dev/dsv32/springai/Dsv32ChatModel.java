package dev.dsv32.springai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.api.Event;
import dev.dsv32.api.GenerateRequest;
import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Tool;
import dev.dsv32.encoding.ToolCall;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.ChatGenerationMetadata;
import org.springframework.ai.chat.metadata.ChatResponseMetadata;
import org.springframework.ai.chat.metadata.DefaultUsage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.model.tool.DefaultToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingManager;
import org.springframework.ai.model.tool.ToolExecutionEligibilityPredicate;
import org.springframework.ai.model.tool.ToolExecutionResult;
import org.springframework.ai.tool.definition.ToolDefinition;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Spring AI's {@link ChatModel} over a dsv32 {@link Model} (in-process or remote), for {@code ChatClient} and the rest
 * of Spring AI.
 *
 * <p>Tools: the tool definitions Spring AI resolves ({@code @Tool} methods, {@code ToolCallback}s) are rendered into the
 * prompt by the DeepSeek-V3.2 encoder; the model's tool calls come back as {@link AssistantMessage.ToolCall}s and, unless
 * internal tool execution is off, the {@link ToolCallingManager} runs them and the conversation continues until an
 * answer (the loop of Spring AI's own providers). The reasoning is the assistant message's {@value #REASONING_CONTENT}
 * metadata, sent back on tool-loop turns as the encoding requires. The model is not closed by this class.
 */
public class Dsv32ChatModel implements ChatModel {
    /** The metadata key of the reasoning on assistant messages (as Spring AI's DeepSeek module names it). */
    public static final String REASONING_CONTENT = "reasoningContent";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong IDS = new AtomicLong();

    private final Model model;
    private final Dsv32ChatOptions defaultOptions;
    private final ToolCallingManager toolCallingManager;
    private final ToolExecutionEligibilityPredicate toolExecutionEligibilityPredicate;

    public Dsv32ChatModel(Model model, Dsv32ChatOptions defaultOptions, ToolCallingManager toolCallingManager,
                          ToolExecutionEligibilityPredicate toolExecutionEligibilityPredicate) {
        this.model = Objects.requireNonNull(model, "model");
        this.defaultOptions = Objects.requireNonNull(defaultOptions, "defaultOptions");
        this.toolCallingManager = Objects.requireNonNull(toolCallingManager, "toolCallingManager");
        this.toolExecutionEligibilityPredicate = toolExecutionEligibilityPredicate != null ? toolExecutionEligibilityPredicate
                : new DefaultToolExecutionEligibilityPredicate();
    }

    /** With the default options and Spring AI's default tool calling manager. */
    public Dsv32ChatModel(Model model) {
        this(model, new Dsv32ChatOptions(), ToolCallingManager.builder().build(), null);
    }

    @Override
    public ChatOptions getDefaultOptions() {
        return defaultOptions.copy();
    }

    @Override
    public ChatResponse call(Prompt prompt) {
        return internalCall(requestPrompt(prompt));
    }

    private ChatResponse internalCall(Prompt prompt) {
        Dsv32ChatOptions options = (Dsv32ChatOptions) prompt.getOptions();
        GenerateResult result = model.generate(toRequest(prompt, options));
        ChatResponse response = toResponse(result, true);
        if (toolExecutionEligibilityPredicate.isToolExecutionRequired(options, response)) {
            ToolExecutionResult executed = toolCallingManager.executeToolCalls(prompt, response);
            if (executed.returnDirect()) {
                return ChatResponse.builder().from(response).generations(ToolExecutionResult.buildGenerations(executed)).build();
            }
            return internalCall(new Prompt(executed.conversationHistory(), options));
        }
        return response;
    }

    /**
     * Reasoning chunks (empty text, the delta in {@value #REASONING_CONTENT}), content chunks, then one last chunk
     * without text carrying the tool calls, finish reason and usage. Tool calls are executed as in {@link #call} and the
     * stream continues with the next turn.
     */
    @Override
    public Flux<ChatResponse> stream(Prompt prompt) {
        return internalStream(requestPrompt(prompt));
    }

    /** A chunk to emit, and for the last one the whole turn (what tool execution needs). */
    private record Chunk(ChatResponse emitted, ChatResponse whole) {}

    private Flux<ChatResponse> internalStream(Prompt prompt) {
        Dsv32ChatOptions options = (Dsv32ChatOptions) prompt.getOptions();
        GenerateRequest request = toRequest(prompt, options);
        Flux<Chunk> chunks = Flux.create(sink -> {
            CompletableFuture<GenerateResult> f = model.stream(request, event -> {
                if (event instanceof Event.ReasoningDelta d) {
                    sink.next(new Chunk(delta("", d.text()), null));
                } else if (event instanceof Event.ContentDelta d) {
                    sink.next(new Chunk(delta(d.text(), null), null));
                } else if (event instanceof Event.Final fin) {
                    sink.next(new Chunk(toResponse(fin.result(), false), toResponse(fin.result(), true)));
                }
            });
            sink.onCancel(() -> f.cancel(true));
            f.whenComplete((r, e) -> {
                if (e != null) {
                    sink.error(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                } else {
                    sink.complete();
                }
            });
        });
        return chunks.concatMap(c -> {
            if (c.whole() == null || !toolExecutionEligibilityPredicate.isToolExecutionRequired(options, c.whole())) {
                return Flux.just(c.emitted());
            }
            return Flux.defer(() -> {
                ToolExecutionResult executed = toolCallingManager.executeToolCalls(prompt, c.whole());
                if (executed.returnDirect()) {
                    return Flux.just(ChatResponse.builder().from(c.whole()).generations(ToolExecutionResult.buildGenerations(executed)).build());
                }
                return Flux.just(c.emitted()).concatWith(internalStream(new Prompt(executed.conversationHistory(), options)));
            }).subscribeOn(Schedulers.boundedElastic());
        });
    }

    private Prompt requestPrompt(Prompt prompt) {
        Dsv32ChatOptions options = Dsv32ChatOptions.merge(defaultOptions, prompt.getOptions());
        ToolCallingChatOptions.validateToolCallbacks(options.getToolCallbacks());
        return new Prompt(prompt.getInstructions(), options);
    }

    GenerateRequest toRequest(Prompt prompt, Dsv32ChatOptions o) {
        GenerateRequest.Builder b = GenerateRequest.builder();
        if (o.getFrequencyPenalty() != null) throw unsupported("frequencyPenalty");
        if (o.getPresencePenalty() != null) throw unsupported("presencePenalty");
        if (o.getThinking() != null) b.thinking(o.getThinking());
        if (o.getSeed() != null) b.seed(o.getSeed());
        if (o.getTemperature() != null) b.temperature(o.getTemperature());
        if (o.getTopP() != null) b.topP(o.getTopP());
        if (o.getTopK() != null) b.topK(o.getTopK());
        if (o.getMaxTokens() != null) b.maxTokens(o.getMaxTokens());
        if (o.getStopSequences() != null && !o.getStopSequences().isEmpty()) b.stop(o.getStopSequences());
        b.tools(tools(toolCallingManager.resolveToolDefinitions(o)));
        b.messages(messages(prompt.getInstructions()));
        return b.build();
    }

    static List<Tool> tools(List<ToolDefinition> definitions) {
        List<Tool> out = new ArrayList<>(definitions.size());
        for (ToolDefinition d : definitions) {
            JsonNode schema;
            try {
                schema = JSON.readTree(d.inputSchema());
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("tool " + d.name() + ": its input schema is not valid JSON: " + e.getOriginalMessage(), e);
            }
            out.add(Tool.function(d.name(), d.description() == null ? "" : d.description(), schema));
        }
        return out;
    }

    static List<Message> messages(List<org.springframework.ai.chat.messages.Message> messages) {
        List<Message> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            org.springframework.ai.chat.messages.Message m = messages.get(i);
            if (m instanceof SystemMessage s) {
                out.add(Message.system(s.getText()));
            } else if (m instanceof UserMessage u) {
                if (!u.getMedia().isEmpty()) {
                    throw new IllegalArgumentException("messages[" + i + "]: a user message with media; DeepSeek-V3.2 takes text only");
                }
                out.add(Message.user(u.getText()));
            } else if (m instanceof AssistantMessage a) {
                List<ToolCall> calls = null;
                if (a.hasToolCalls()) {
                    calls = new ArrayList<>();
                    for (AssistantMessage.ToolCall c : a.getToolCalls()) {
                        String args = c.arguments() == null || c.arguments().isBlank() ? "{}" : c.arguments();
                        ToolCall call = ToolCall.of(c.name(), args);
                        calls.add(c.id() == null || c.id().isEmpty() ? call : call.withId(c.id()));
                    }
                }
                Object reasoning = a.getMetadata().get(REASONING_CONTENT);
                out.add(Message.assistant(a.getText() == null ? "" : a.getText(),
                        reasoning instanceof String r && !r.isEmpty() ? r : null, calls));
            } else if (m instanceof ToolResponseMessage t) {
                for (ToolResponseMessage.ToolResponse r : t.getResponses()) out.add(Message.tool(r.id(), r.responseData()));
            } else {
                throw new IllegalArgumentException("messages[" + i + "]: " + m.getMessageType() + " messages are not supported by dsv32");
            }
        }
        return out;
    }

    /** The turn as a response; {@code withText} false leaves the text out (the streamed last chunk). */
    private ChatResponse toResponse(GenerateResult r, boolean withText) {
        List<AssistantMessage.ToolCall> calls = new ArrayList<>(r.toolCalls().size());
        for (ToolCall c : r.toolCalls()) calls.add(new AssistantMessage.ToolCall(c.id(), "function", c.name(), c.arguments()));
        Map<String, Object> properties = new HashMap<>();
        if (withText && !r.reasoning().isEmpty()) properties.put(REASONING_CONTENT, r.reasoning());
        properties.put("finishReason", r.finishReason().name());
        AssistantMessage message = AssistantMessage.builder().content(withText ? r.content() : "").properties(properties).toolCalls(calls).build();
        Generation g = new Generation(message, ChatGenerationMetadata.builder().finishReason(r.finishReason().name()).build());
        ChatResponseMetadata md = ChatResponseMetadata.builder()
                .id("dsv32-" + IDS.incrementAndGet())
                .model(defaultOptions.getModel() != null ? defaultOptions.getModel() : "deepseek-v3.2")
                .usage(new DefaultUsage(r.usage().promptTokens(), r.usage().completionTokens()))
                .build();
        return new ChatResponse(List.of(g), md);
    }

    private static ChatResponse delta(String text, String reasoning) {
        Map<String, Object> properties = new HashMap<>();
        if (reasoning != null) properties.put(REASONING_CONTENT, reasoning);
        return new ChatResponse(List.of(new Generation(AssistantMessage.builder().content(text).properties(properties).build())));
    }

    private static UnsupportedOperationException unsupported(String option) {
        return new UnsupportedOperationException(option + " is not supported by dsv32 (DeepSeek-V3.2 samples with temperature, topP and topK only)");
    }
}
