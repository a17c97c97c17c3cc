package dev.dsv32.langchain4j;

import dev.dsv32.api.Model;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** The settings both LangChain4j models take. Setters check their argument and name it. */
public abstract class ModelSettingsBuilder<B extends ModelSettingsBuilder<B>> {
    Model model;
    boolean thinking = true;
    Long seed;
    String modelName = "deepseek-v3.2";
    ChatRequestParameters defaultParameters;
    final List<ChatModelListener> listeners = new ArrayList<>();

    ModelSettingsBuilder() {}

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The dsv32 model (required); it stays the caller's to close. */
    public B model(Model m) {
        this.model = Objects.requireNonNull(m, "model");
        return self();
    }

    /** Thinking mode (reasoning before the answer, {@code AiMessage.thinking()}) or chat mode. Default on. */
    public B thinking(boolean on) {
        this.thinking = on;
        return self();
    }

    /** A fixed sampling seed (reproducible answers). Default: random. */
    public B seed(long s) {
        this.seed = s;
        return self();
    }

    /** The name reported in responses. Default {@code deepseek-v3.2}. */
    public B modelName(String name) {
        Objects.requireNonNull(name, "modelName");
        if (name.isBlank()) throw new IllegalArgumentException("modelName is blank");
        this.modelName = name;
        return self();
    }

    /**
     * Defaults for every request (temperature, topP, topK, maxOutputTokens, stopSequences, tools); a request's own
     * parameters override them. Unset values fall back to the model card's (temperature 1.0, top-p 0.95).
     */
    public B defaultRequestParameters(ChatRequestParameters p) {
        this.defaultParameters = Objects.requireNonNull(p, "defaultRequestParameters");
        return self();
    }

    /** Listeners LangChain4j calls around each request. */
    public B listeners(List<ChatModelListener> list) {
        Objects.requireNonNull(list, "listeners");
        for (int i = 0; i < list.size(); i++) listeners.add(Objects.requireNonNull(list.get(i), "listeners[" + i + "]"));
        return self();
    }

    ChatRequestParameters defaults(String name) {
        DefaultChatRequestParameters.Builder<?> b = DefaultChatRequestParameters.builder();
        if (defaultParameters != null) b.overrideWith(defaultParameters);
        return b.modelName(name).build();
    }
}
