package dev.dsv32.langchain4j;

import dev.dsv32.api.GenerateResult;
import dev.dsv32.api.Model;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * LangChain4j's {@link ChatModel} over a dsv32 {@link Model} (in-process or remote): use it wherever LangChain4j takes
 * a chat model ({@code AiServices}, chains, memory, listeners).
 *
 * <pre>{@code
 * ChatModel chat = Dsv32ChatModel.builder().model(model).build();
 * Assistant a = AiServices.builder(Assistant.class).chatModel(chat).tools(new Calculator()).build();
 * }</pre>
 *
 * <p>Tool specifications are rendered into the prompt by the DeepSeek-V3.2 encoder, and the model's DSML tool calls come
 * back as {@code ToolExecutionRequest}s (AiServices runs them and calls again). The reasoning is
 * {@code AiMessage.thinking()}; sent back in the history it is kept or dropped as the encoding's {@code drop_thinking}
 * rule says. The model is not closed by this class: it belongs to the caller.
 */
public final class Dsv32ChatModel implements ChatModel {
    private static final AtomicLong IDS = new AtomicLong();

    private final Model model;
    private final Mapping.Settings settings;
    private final ChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;

    private Dsv32ChatModel(Builder b) {
        if (b.model == null) throw new IllegalStateException("model is required: Dsv32ChatModel.builder().model(model)");
        this.model = b.model;
        this.settings = new Mapping.Settings(b.thinking, b.seed, b.modelName);
        this.defaults = b.defaults(b.modelName);
        this.listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        GenerateResult r = model.generate(Mapping.toGenerateRequest(request, settings));
        return Mapping.toChatResponse(r, settings.modelName(), "dsv32-" + IDS.incrementAndGet());
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    /** Builds a {@link Dsv32ChatModel}; only {@link #model} is required. */
    public static final class Builder extends ModelSettingsBuilder<Builder> {
        private Builder() {}

        public Dsv32ChatModel build() {
            return new Dsv32ChatModel(this);
        }
    }
}
