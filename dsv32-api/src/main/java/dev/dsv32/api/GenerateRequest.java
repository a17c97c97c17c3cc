package dev.dsv32.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Role;
import dev.dsv32.encoding.Tool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What to generate: the conversation, the tools offered, thinking options and sampling. Immutable; build with
 * {@link #builder()} (defaults: thinking on, {@code drop_thinking} on, temperature 1.0, top-p 0.95 as the model card
 * recommends, top-k off, a random seed, 4096 max tokens, no stop strings, no timeout).
 *
 * <pre>{@code
 * GenerateRequest req = GenerateRequest.builder()
 *         .messages(Message.system("Be brief."), Message.user("Hi!"))
 *         .thinking(false).temperature(0.6).maxTokens(256).build();
 * }</pre>
 *
 * <p>{@link #tools()} and {@link #responseFormat()} are rendered on the first message when it is a system message,
 * else on an empty system message put before the conversation (the encoding renders them on system messages only).
 */
public final class GenerateRequest {
    public static final int DEFAULT_MAX_TOKENS = 4096;

    private final List<Message> messages;
    private final List<Tool> tools;
    private final boolean thinking;
    private final boolean dropThinking;
    private final double temperature;
    private final double topP;
    private final int topK;
    private final Long seed;
    private final int maxTokens;
    private final List<String> stop;
    private final Duration timeout;
    private final JsonNode responseFormat;
    private final boolean ignoreEos;
    private final LogitsListener logitsListener;

    private GenerateRequest(Builder b) {
        this.messages = List.copyOf(b.messages);
        this.tools = List.copyOf(b.tools);
        this.thinking = b.thinking;
        this.dropThinking = b.dropThinking;
        this.temperature = b.temperature;
        this.topP = b.topP;
        this.topK = b.topK;
        this.seed = b.seed;
        this.maxTokens = b.maxTokens;
        this.stop = List.copyOf(b.stop);
        this.timeout = b.timeout;
        this.responseFormat = b.responseFormat;
        this.ignoreEos = b.ignoreEos;
        this.logitsListener = b.logitsListener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A request for one user message, with the defaults. */
    public static GenerateRequest of(String userMessage) {
        return builder().messages(Message.user(userMessage)).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public List<Message> messages() {
        return messages;
    }

    public List<Tool> tools() {
        return tools;
    }

    public boolean thinking() {
        return thinking;
    }

    public boolean dropThinking() {
        return dropThinking;
    }

    public double temperature() {
        return temperature;
    }

    public double topP() {
        return topP;
    }

    public int topK() {
        return topK;
    }

    /** The sampling seed, when one was set. */
    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    public int maxTokens() {
        return maxTokens;
    }

    public List<String> stop() {
        return stop;
    }

    /** The per-request timeout, or null for none. */
    public Duration timeout() {
        return timeout;
    }

    /** The JSON schema the answer must follow ({@code response_format}), or null. */
    public JsonNode responseFormat() {
        return responseFormat;
    }

    /** Whether generation ignores the end-of-sentence token (benchmarks: always {@code maxTokens} tokens). */
    public boolean ignoreEos() {
        return ignoreEos;
    }

    /** The debug hook, or null. */
    public LogitsListener logitsListener() {
        return logitsListener;
    }

    /**
     * The messages as the encoder sees them: {@link #tools()} and {@link #responseFormat()} attached to the leading
     * system message (one is added when the conversation does not start with a system message).
     */
    public List<Message> encodedMessages() {
        if (tools.isEmpty() && responseFormat == null) return messages;
        List<Message> out = new ArrayList<>(messages.size() + 1);
        Message first = !messages.isEmpty() && messages.get(0).role() == Role.SYSTEM ? messages.get(0) : Message.system("");
        if (!tools.isEmpty()) {
            List<Tool> all = new ArrayList<>();
            if (first.tools() != null) all.addAll(first.tools());
            all.addAll(tools);
            first = first.withTools(all);
        }
        if (responseFormat != null) first = first.withResponseFormat(responseFormat);
        out.add(first);
        boolean replaced = !messages.isEmpty() && messages.get(0).role() == Role.SYSTEM;
        out.addAll(replaced ? messages.subList(1, messages.size()) : messages);
        return out;
    }

    @Override
    public String toString() {
        return "GenerateRequest[" + messages.size() + " messages, " + tools.size() + " tools, thinking=" + thinking
                + ", temperature=" + temperature + ", topP=" + topP + ", topK=" + topK + ", seed=" + seed
                + ", maxTokens=" + maxTokens + ", stop=" + stop + ", timeout=" + timeout + "]";
    }

    /** Builds a {@link GenerateRequest}; each setter checks its argument and names it. Not thread-safe. */
    public static final class Builder {
        private List<Message> messages = new ArrayList<>();
        private List<Tool> tools = new ArrayList<>();
        private boolean thinking = true;
        private boolean dropThinking = true;
        private double temperature = 1.0;
        private double topP = 0.95;
        private int topK;
        private Long seed;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private List<String> stop = new ArrayList<>();
        private Duration timeout;
        private JsonNode responseFormat;
        private boolean ignoreEos;
        private LogitsListener logitsListener;

        private Builder() {}

        private Builder(GenerateRequest r) {
            messages = new ArrayList<>(r.messages);
            tools = new ArrayList<>(r.tools);
            thinking = r.thinking;
            dropThinking = r.dropThinking;
            temperature = r.temperature;
            topP = r.topP;
            topK = r.topK;
            seed = r.seed;
            maxTokens = r.maxTokens;
            stop = new ArrayList<>(r.stop);
            timeout = r.timeout;
            responseFormat = r.responseFormat;
            ignoreEos = r.ignoreEos;
            logitsListener = r.logitsListener;
        }

        /** The conversation (replaces any set before). */
        public Builder messages(List<Message> list) {
            Objects.requireNonNull(list, "messages");
            List<Message> copy = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) copy.add(Objects.requireNonNull(list.get(i), "messages[" + i + "]"));
            this.messages = copy;
            return this;
        }

        public Builder messages(Message... list) {
            return messages(List.of(Objects.requireNonNull(list, "messages")));
        }

        /** Appends one message. */
        public Builder addMessage(Message m) {
            messages.add(Objects.requireNonNull(m, "message"));
            return this;
        }

        /** The tools offered to the model (OpenAI format; see {@link dev.dsv32.api.tools.ToolRegistry#specs()}). */
        public Builder tools(List<Tool> list) {
            Objects.requireNonNull(list, "tools");
            List<Tool> copy = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) copy.add(Objects.requireNonNull(list.get(i), "tools[" + i + "]"));
            this.tools = copy;
            return this;
        }

        /** Thinking mode ({@code <think>} after the assistant marker) or chat mode. Default on. */
        public Builder thinking(boolean on) {
            this.thinking = on;
            return this;
        }

        /** The encoder's {@code drop_thinking}: earlier turns lose their reasoning. Default on. */
        public Builder dropThinking(boolean on) {
            this.dropThinking = on;
            return this;
        }

        /** Softmax temperature, finite and {@code >= 0}; 0 is greedy. Default 1.0. */
        public Builder temperature(double v) {
            if (!Double.isFinite(v) || v < 0) throw new IllegalArgumentException("temperature must be finite and >= 0 (0 = greedy), got " + v);
            this.temperature = v;
            return this;
        }

        /** Nucleus mass in (0, 1]; 1 turns it off. Default 0.95. */
        public Builder topP(double v) {
            if (!Double.isFinite(v) || !(v > 0) || v > 1) throw new IllegalArgumentException("topP must be in (0, 1] (1 = off), got " + v);
            this.topP = v;
            return this;
        }

        /** Keep only the k most likely tokens; 0 turns it off (default). */
        public Builder topK(int v) {
            if (v < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = off), got " + v);
            this.topK = v;
            return this;
        }

        /** Greedy decoding: temperature 0. */
        public Builder greedy() {
            return temperature(0);
        }

        /** The sampling seed: the same seed, request and model give the same tokens. Default: a random seed. */
        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        /** At most this many completion tokens (>= 1). Default 4096. */
        public Builder maxTokens(int v) {
            if (v < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + v);
            this.maxTokens = v;
            return this;
        }

        /** Generation ends before any of these strings; they are not part of the result. */
        public Builder stop(List<String> strings) {
            Objects.requireNonNull(strings, "stop");
            List<String> copy = new ArrayList<>(strings.size());
            for (int i = 0; i < strings.size(); i++) {
                String s = Objects.requireNonNull(strings.get(i), "stop[" + i + "]");
                if (s.isEmpty()) throw new IllegalArgumentException("stop[" + i + "] is empty");
                copy.add(s);
            }
            this.stop = copy;
            return this;
        }

        public Builder stop(String... strings) {
            return stop(List.of(Objects.requireNonNull(strings, "stop")));
        }

        /** Ends generation with {@link FinishReason#TIMEOUT} this long after the call. Null: no timeout. */
        public Builder timeout(Duration d) {
            if (d != null && (d.isNegative() || d.isZero())) throw new IllegalArgumentException("timeout must be > 0, got " + d);
            this.timeout = d;
            return this;
        }

        /** {@code response_format}: a JSON schema the answer must follow, rendered into the system prompt. */
        public Builder responseFormat(JsonNode schema) {
            this.responseFormat = schema;
            return this;
        }

        /** Keep generating after the end-of-sentence token (benchmarks). Default off. */
        public Builder ignoreEos(boolean on) {
            this.ignoreEos = on;
            return this;
        }

        /** Debug hook: sees each row of logits a completion token is sampled from. */
        public Builder logitsListener(LogitsListener l) {
            this.logitsListener = l;
            return this;
        }

        /** The request (a request without messages serves as defaults: generating it is an error). */
        public GenerateRequest build() {
            return new GenerateRequest(this);
        }
    }
}
