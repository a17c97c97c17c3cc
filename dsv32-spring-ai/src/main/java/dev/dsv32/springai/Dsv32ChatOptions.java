package dev.dsv32.springai;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import org.springframework.ai.chat.prompt.ChatOptions;
import org.springframework.ai.model.tool.DefaultToolCallingChatOptions;
import org.springframework.ai.model.tool.ToolCallingChatOptions;
import org.springframework.ai.tool.ToolCallback;

/**
 * Options of {@link Dsv32ChatModel}: Spring AI's sampling and tool-calling options plus DeepSeek-V3.2's thinking switch
 * and a sampling seed. A prompt's options override the model's defaults field by field (tool callbacks and names are
 * merged as Spring AI's own providers merge them).
 */
public class Dsv32ChatOptions extends DefaultToolCallingChatOptions {
    private Boolean thinking;
    private Long seed;

    /** Thinking mode (reasoning before the answer, in the assistant message's {@code reasoningContent} metadata). */
    public Boolean getThinking() {
        return thinking;
    }

    public void setThinking(Boolean thinking) {
        this.thinking = thinking;
    }

    public Long getSeed() {
        return seed;
    }

    public void setSeed(Long seed) {
        this.seed = seed;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends ChatOptions> T copy() {
        Dsv32ChatOptions c = new Dsv32ChatOptions();
        c.overrideWith(this);
        return (T) c;
    }

    /** {@code defaults} overridden by the non-null values of {@code runtime} (any Spring AI ChatOptions, or null). */
    public static Dsv32ChatOptions merge(Dsv32ChatOptions defaults, ChatOptions runtime) {
        Dsv32ChatOptions out = defaults.copy();
        if (runtime == null) return out;
        if (runtime instanceof ToolCallingChatOptions t) {
            out.setToolCallbacks(ToolCallingChatOptions.mergeToolCallbacks(t.getToolCallbacks(), defaults.getToolCallbacks()));
            out.setToolNames(ToolCallingChatOptions.mergeToolNames(t.getToolNames(), defaults.getToolNames()));
            out.setToolContext(ToolCallingChatOptions.mergeToolContext(t.getToolContext(), defaults.getToolContext()));
            if (t.getInternalToolExecutionEnabled() != null) out.setInternalToolExecutionEnabled(t.getInternalToolExecutionEnabled());
        }
        if (runtime.getModel() != null) out.setModel(runtime.getModel());
        if (runtime.getTemperature() != null) out.setTemperature(runtime.getTemperature());
        if (runtime.getTopP() != null) out.setTopP(runtime.getTopP());
        if (runtime.getTopK() != null) out.setTopK(runtime.getTopK());
        if (runtime.getMaxTokens() != null) out.setMaxTokens(runtime.getMaxTokens());
        if (runtime.getStopSequences() != null) out.setStopSequences(runtime.getStopSequences());
        if (runtime.getFrequencyPenalty() != null) out.setFrequencyPenalty(runtime.getFrequencyPenalty());
        if (runtime.getPresencePenalty() != null) out.setPresencePenalty(runtime.getPresencePenalty());
        if (runtime instanceof Dsv32ChatOptions d) {
            if (d.thinking != null) out.thinking = d.thinking;
            if (d.seed != null) out.seed = d.seed;
        }
        return out;
    }

    private void overrideWith(Dsv32ChatOptions o) {
        setModel(o.getModel());
        setTemperature(o.getTemperature());
        setTopP(o.getTopP());
        setTopK(o.getTopK());
        setMaxTokens(o.getMaxTokens());
        setStopSequences(o.getStopSequences() == null ? null : new ArrayList<>(o.getStopSequences()));
        setFrequencyPenalty(o.getFrequencyPenalty());
        setPresencePenalty(o.getPresencePenalty());
        setToolCallbacks(new ArrayList<ToolCallback>(o.getToolCallbacks()));
        setToolNames(new LinkedHashSet<>(o.getToolNames()));
        setToolContext(new HashMap<>(o.getToolContext()));
        setInternalToolExecutionEnabled(o.getInternalToolExecutionEnabled());
        thinking = o.thinking;
        seed = o.seed;
    }

    public static Builder newBuilder() {
        return new Builder();
    }

    /** Builds {@link Dsv32ChatOptions}. */
    public static final class Builder {
        private final Dsv32ChatOptions o = new Dsv32ChatOptions();

        private Builder() {}

        public Builder thinking(Boolean on) {
            o.thinking = on;
            return this;
        }

        public Builder seed(Long s) {
            o.seed = s;
            return this;
        }

        public Builder temperature(Double t) {
            o.setTemperature(t);
            return this;
        }

        public Builder topP(Double p) {
            o.setTopP(p);
            return this;
        }

        public Builder topK(Integer k) {
            o.setTopK(k);
            return this;
        }

        public Builder maxTokens(Integer n) {
            o.setMaxTokens(n);
            return this;
        }

        public Builder stopSequences(List<String> stop) {
            o.setStopSequences(stop);
            return this;
        }

        public Builder model(String name) {
            o.setModel(name);
            return this;
        }

        public Builder toolCallbacks(List<ToolCallback> callbacks) {
            o.setToolCallbacks(callbacks);
            return this;
        }

        public Builder internalToolExecutionEnabled(Boolean on) {
            o.setInternalToolExecutionEnabled(on);
            return this;
        }

        public Dsv32ChatOptions build() {
            return o.copy();
        }
    }
}
