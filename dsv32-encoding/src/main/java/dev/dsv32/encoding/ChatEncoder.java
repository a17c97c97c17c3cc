package dev.dsv32.encoding;

import static dev.dsv32.encoding.PythonValues.str;
import static dev.dsv32.encoding.PythonValues.truthy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the DeepSeek-V3.2 prompt from chat messages, byte for byte as the official {@code encode_messages} of
 * {@code encoding_dsv32.py} does (encoding.md §5). Immutable and thread-safe: build one and share it.
 *
 * <p>Two entry points: {@link #encode(List)} for typed {@link Message}s, and {@link #encodeJson(List)} for messages
 * as JSON objects, which reproduces the official code on any JSON input, quirks included: {@code str()} of non-string
 * content ({@code None} for a null user content), Python truthiness, and the errors it raises (as
 * {@link EncodingException} naming the message and field).
 *
 * <pre>{@code
 * ChatEncoder enc = ChatEncoder.builder().thinkingMode(ThinkingMode.THINKING).build();
 * String prompt = enc.encode(List.of(Message.user("hello")));   // "<｜begin▁of▁sentence｜><｜User｜>hello<｜Assistant｜><think>"
 * }</pre>
 */
public final class ChatEncoder {
    private static final String DSML = Tokens.DSML;
    private static final String RESPONSE_FORMAT_PREFIX =
            "## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n";
    private static final String DEVELOPER_SUFFIX = "\n\n# The user's message is: ";

    /** {@code TOOLS_SYSTEM_TEMPLATE} with every placeholder but {@code {tool_schemas}} substituted (encoding.md §3). */
    static final String TOOLS_BLOCK_BEFORE_SCHEMAS = "## Tools\n\n"
            + "You have access to a set of tools you can use to answer the user's question.\n"
            + "You can invoke functions by writing a \"<" + DSML + "function_calls>\" block like the following as part of your reply to the user:\n"
            + "<" + DSML + "function_calls>\n"
            + "<" + DSML + "invoke name=\"$FUNCTION_NAME\">\n"
            + "<" + DSML + "parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</" + DSML + "parameter>\n"
            + "...\n"
            + "</" + DSML + "invoke>\n"
            + "<" + DSML + "invoke name=\"$FUNCTION_NAME2\">\n"
            + "...\n"
            + "</" + DSML + "invoke>\n"
            + "</" + DSML + "function_calls>\n"
            + "\n"
            + "String and scalar parameters should be specified as is without any escaping or quotes, while lists and objects should use JSON format. The \"string\" attribute should be set to \"true\" for string type parameters and \"false\" for other types (numbers, booleans, arrays, objects).\n"
            + "\n"
            + "If the thinking_mode is enabled, then after function results you should strongly consider outputting a thinking block. Here is an example:\n"
            + "\n"
            + "<" + DSML + "function_calls>\n"
            + "...\n"
            + "</" + DSML + "function_calls>\n"
            + "\n"
            + "<function_results>\n"
            + "...\n"
            + "</function_results>\n"
            + "\n"
            + Tokens.THINK_START + "...thinking about results" + Tokens.THINK_END + "\n"
            + "\n"
            + "Here are the functions available in JSONSchema format:\n"
            + "<functions>\n";
    static final String TOOLS_BLOCK_AFTER_SCHEMAS = "\n</functions>\n";

    private final ThinkingMode thinkingMode;
    private final boolean dropThinking;
    private final boolean addBosToken;
    private final ModelVariant variant;

    private ChatEncoder(Builder b) {
        this.thinkingMode = b.thinkingMode;
        this.dropThinking = b.dropThinking;
        this.addBosToken = b.addBosToken;
        this.variant = b.variant;
    }

    /** Thinking mode, {@code drop_thinking=true}, BOS added, standard model. */
    public static ChatEncoder defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().thinkingMode(thinkingMode).dropThinking(dropThinking).addBosToken(addBosToken).variant(variant);
    }

    public ThinkingMode thinkingMode() {
        return thinkingMode;
    }

    public boolean dropThinking() {
        return dropThinking;
    }

    public boolean addBosToken() {
        return addBosToken;
    }

    public ModelVariant variant() {
        return variant;
    }

    /** Encodes a whole conversation. */
    public String encode(List<Message> messages) {
        return encode(List.of(), messages);
    }

    /**
     * Encodes {@code messages} as the continuation of {@code context} (earlier turns that are not rendered but decide
     * the thinking markers); no BOS when the context is non-empty.
     */
    public String encode(List<Message> context, List<Message> messages) {
        return encodeJson(toJson(context), toJson(messages));
    }

    /** Encodes messages given as JSON objects, with the official code's semantics for any JSON value. */
    public String encodeJson(List<? extends JsonNode> messages) {
        return encodeJson(List.of(), messages);
    }

    /** {@code encode_messages(messages, thinking_mode, context, drop_thinking, add_default_bos_token)}. */
    public String encodeJson(List<? extends JsonNode> context, List<? extends JsonNode> messages) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(messages, "messages");
        List<JsonNode> full = new ArrayList<>(context.size() + messages.size());
        full.addAll(context);
        full.addAll(messages);
        Labels labels = new Labels(context.size());
        if (!variant.supportsTools()) rejectToolUse(full, labels);

        StringBuilder prompt = new StringBuilder(256);
        if (addBosToken && context.isEmpty()) prompt.append(Tokens.BOS);
        Msgs rendered = Msgs.of(full, labels);
        if (thinkingMode == ThinkingMode.THINKING && dropThinking) rendered = dropThinkingMessages(rendered);
        // find_last_user_index runs on the same list for every message: compute it once (the official code's is O(n^2)).
        int lastUser = messages.isEmpty() ? -1 : findLastUserIndex(rendered);
        for (int i = 0; i < messages.size(); i++) {
            renderMessage(i + context.size(), rendered, lastUser, prompt, full.size() - rendered.size());
        }
        return prompt.toString();
    }

    /** Field paths in error messages: {@code context[i]} or {@code messages[i]} as the caller passed them. */
    private static final class Labels {
        final int contextSize;

        Labels(int contextSize) {
            this.contextSize = contextSize;
        }

        String of(int index) {
            return index < contextSize ? "context[" + index + "]" : "messages[" + (index - contextSize) + "]";
        }
    }

    /**
     * The list the official code indexes ({@code full_messages}, possibly filtered by {@code drop_thinking_messages}),
     * with each entry's position in the caller's input so that errors name the caller's message.
     */
    private record Msgs(List<JsonNode> nodes, int[] origin, Labels labels) {
        static Msgs of(List<JsonNode> full, Labels labels) {
            int[] origin = new int[full.size()];
            for (int i = 0; i < origin.length; i++) origin[i] = i;
            return new Msgs(full, origin, labels);
        }

        int size() {
            return nodes.size();
        }

        String label(int index) {
            return labels.of(origin[index]);
        }

        /**
         * {@code messages[index]} where the official code calls {@code .get} on it: a message that is not a JSON
         * object raises there ({@code AttributeError}), and only there.
         */
        JsonNode get(int index) {
            JsonNode m = nodes.get(index);
            if (m == null || !m.isObject()) {
                throw new EncodingException(label(index), "expected a message object, got " + describe(m));
            }
            return m;
        }
    }

    private static String describe(JsonNode n) {
        return n == null ? "nothing" : n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    private static String role(JsonNode msg) {
        JsonNode r = msg.get("role");
        return r != null && r.isTextual() ? r.textValue() : null;
    }

    private void rejectToolUse(List<JsonNode> full, Labels labels) {
        for (int i = 0; i < full.size(); i++) {
            JsonNode m = full.get(i);
            if (m == null || !m.isObject()) continue;
            if (truthy(m.get("tools"))) {
                throw new EncodingException(labels.of(i) + ".tools",
                        "DeepSeek-V3.2-Speciale does not support tool calling; remove the tools or use the standard model");
            }
            if (truthy(m.get("tool_calls"))) {
                throw new EncodingException(labels.of(i) + ".tool_calls",
                        "DeepSeek-V3.2-Speciale does not support tool calling; the conversation contains tool calls");
            }
            if ("tool".equals(role(m))) {
                throw new EncodingException(labels.of(i) + ".role",
                        "DeepSeek-V3.2-Speciale does not support tool calling; the conversation contains tool results");
            }
        }
    }

    /** {@code find_last_user_index}: the last user or developer message, else -1 (encoding.md §5.1). */
    private static int findLastUserIndex(Msgs msgs) {
        for (int i = msgs.size() - 1; i >= 0; i--) {
            String r = role(msgs.get(i));
            if ("user".equals(r) || "developer".equals(r)) return i;
        }
        return -1;
    }

    /**
     * {@code drop_thinking_messages} (encoding.md §5.2): assistant turns before the last user message lose their
     * reasoning; developer (or unknown-role) messages before it are dropped, which makes the official render loop fail
     * on an index out of range. That failure is reproduced in {@link #renderMessage}.
     */
    private static Msgs dropThinkingMessages(Msgs full) {
        int last = findLastUserIndex(full);
        List<JsonNode> out = new ArrayList<>(full.size());
        int[] origin = new int[full.size()];
        for (int idx = 0; idx < full.size(); idx++) {
            JsonNode msg = full.get(idx);
            String r = role(msg);
            if ("user".equals(r) || "system".equals(r) || "tool".equals(r) || idx >= last) {
                origin[out.size()] = full.origin()[idx];
                out.add(msg);
            } else if ("assistant".equals(r)) {
                origin[out.size()] = full.origin()[idx];
                if (msg.has("reasoning_content")) {
                    ObjectNode copy = ((ObjectNode) msg).deepCopy();
                    copy.remove("reasoning_content");
                    out.add(copy);
                } else {
                    out.add(msg);
                }
            }
        }
        return new Msgs(out, java.util.Arrays.copyOf(origin, out.size()), full.labels());
    }

    private record Call(JsonNode name, JsonNode arguments) {}

    private void renderMessage(int index, Msgs msgs, int lastUser, StringBuilder prompt, int dropped) {
        if (index < 0 || index >= msgs.size()) {
            throw new EncodingException("messages",
                    "drop_thinking removed " + dropped + " developer (or unknown-role) message(s) that precede the last user"
                            + " message, and the official encoder then fails (AssertionError: message index " + index
                            + " out of range); use drop_thinking=false or chat mode for such conversations");
        }
        final boolean thinking = thinkingMode == ThinkingMode.THINKING;
        JsonNode msg = msgs.get(index);
        String at = msgs.label(index);

        JsonNode roleNode = msg.get("role");
        String role = role(msg);
        JsonNode content = msg.get("content");
        JsonNode tools = msg.get("tools");
        JsonNode responseFormat = msg.get("response_format");
        JsonNode toolCallsNode = msg.get("tool_calls");
        JsonNode reasoning = msg.get("reasoning_content");

        List<JsonNode> functions = truthy(tools) ? toolsFromOpenAiFormat(tools, at + ".tools") : null;
        List<Call> calls = truthy(toolCallsNode) ? toolCallsFromOpenAiFormat(toolCallsNode, at + ".tool_calls") : null;

        if ("system".equals(role)) {
            prompt.append(truthy(content) ? str(content) : "");
            if (functions != null) prompt.append("\n\n").append(renderTools(functions));
            if (truthy(responseFormat)) prompt.append("\n\n").append(RESPONSE_FORMAT_PREFIX).append(PythonJson.dumps(responseFormat));
        } else if ("developer".equals(role)) {
            if (!truthy(content)) {
                throw new EncodingException(at + ".content", "Invalid message for role `developer`: content must be non-empty");
            }
            prompt.append(Tokens.USER);
            if (functions != null) prompt.append("\n\n").append(renderTools(functions));
            if (truthy(responseFormat)) prompt.append("\n\n").append(RESPONSE_FORMAT_PREFIX).append(PythonJson.dumps(responseFormat));
            prompt.append(DEVELOPER_SUFFIX).append(str(content)).append(Tokens.ASSISTANT);
            prompt.append(index == lastUser && thinking ? Tokens.THINK_START : Tokens.THINK_END);
        } else if ("user".equals(role)) {
            prompt.append(Tokens.USER).append(str(content)).append(Tokens.ASSISTANT);
            prompt.append(index == lastUser && thinking ? Tokens.THINK_START : Tokens.THINK_END);
        } else if ("tool".equals(role)) {
            renderToolResult(index, msgs, content, lastUser, prompt);
        } else if ("assistant".equals(role)) {
            String toolCallsPart = "";
            if (calls != null) {
                StringBuilder tc = new StringBuilder("\n\n<").append(DSML).append("function_calls>\n");
                for (int i = 0; i < calls.size(); i++) {
                    Call c = calls.get(i);
                    if (i > 0) tc.append('\n');
                    tc.append('<').append(DSML).append("invoke name=\"").append(str(c.name())).append("\">\n");
                    encodeArgumentsToDsml(c.arguments(), at + ".tool_calls[" + i + "].function.arguments", tc);
                    tc.append("\n</").append(DSML).append("invoke>");
                }
                tc.append("\n</").append(DSML).append("function_calls>");
                toolCallsPart = tc.toString();
            }
            if (thinking && index > lastUser) {
                if (!truthy(reasoning) && calls == null) {
                    throw new EncodingException(at, "ThinkingMode: thinking, invalid message without reasoning_content/tool_calls"
                            + " after last user message (an assistant turn after the last user message needs its reasoning)");
                }
                prompt.append(truthy(reasoning) ? str(reasoning) : "").append(Tokens.THINK_END);
            }
            prompt.append(truthy(content) ? str(content) : "").append(toolCallsPart).append(Tokens.EOS);
        } else {
            throw new EncodingException(at + ".role", "Unknown role: " + str(roleNode));
        }
    }

    /** Tool results attach to the nearest preceding assistant, by position (encoding.md §5.3, Python index wrap-around kept). */
    private void renderToolResult(int index, Msgs msgs, JsonNode content, int lastUser, StringBuilder prompt) {
        int n = msgs.size();
        int prev = index - 1;
        JsonNode assistant = msgs.get(Math.floorMod(prev, n));
        while (prev >= 0 && "tool".equals(role(assistant))) {
            prev--;
            assistant = msgs.get(Math.floorMod(prev, n));
        }
        String at = msgs.label(index);
        if (!(index == 0 || (prev >= 0 && "assistant".equals(role(assistant))))) {
            throw new EncodingException(at, "Invalid messages at " + index + ": a tool result must follow an assistant message"
                    + " with tool_calls (or other tool results)");
        }
        int order = index - prev;
        JsonNode assistantCalls = assistant.get("tool_calls");
        int available = truthy(assistantCalls) ? PythonValues.len(assistantCalls) : 0;
        if (truthy(assistantCalls) && available < 0) {
            throw new EncodingException(at, "the preceding assistant's tool_calls is not a list");
        }
        if (available < order) {
            throw new EncodingException(at, "No tool calls but found tool output (tool result #" + order
                    + " but the preceding assistant message has " + available + " tool call(s))");
        }
        if (order == 1) prompt.append("\n\n<function_results>");
        prompt.append("\n<result>").append(str(content)).append("</result>");
        if (order == available) {
            prompt.append("\n</function_results>").append("\n\n");
            prompt.append(index >= lastUser && thinkingMode == ThinkingMode.THINKING ? Tokens.THINK_START : Tokens.THINK_END);
        }
    }

    private static List<JsonNode> toolsFromOpenAiFormat(JsonNode tools, String at) {
        if (!tools.isArray()) throw new EncodingException(at, "tools must be a list of {\"type\":\"function\",\"function\":{…}} objects");
        List<JsonNode> out = new ArrayList<>(tools.size());
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            if (t == null || !t.isObject() || !t.has("function")) {
                throw new EncodingException(at + "[" + i + "]", "a tool needs a \"function\" key (OpenAI format)");
            }
            out.add(t.get("function"));
        }
        return out;
    }

    private static List<Call> toolCallsFromOpenAiFormat(JsonNode toolCalls, String at) {
        if (!toolCalls.isArray()) throw new EncodingException(at, "tool_calls must be a list");
        List<Call> out = new ArrayList<>(toolCalls.size());
        for (int i = 0; i < toolCalls.size(); i++) {
            JsonNode tc = toolCalls.get(i);
            JsonNode fn = tc == null || !tc.isObject() ? null : tc.get("function");
            if (fn == null || !fn.isObject()) {
                throw new EncodingException(at + "[" + i + "]", "a tool call needs a \"function\" object (OpenAI format)");
            }
            if (!fn.has("name")) throw new EncodingException(at + "[" + i + "].function", "missing \"name\"");
            if (!fn.has("arguments")) throw new EncodingException(at + "[" + i + "].function", "missing \"arguments\"");
            out.add(new Call(fn.get("name"), fn.get("arguments")));
        }
        return out;
    }

    static String renderTools(List<JsonNode> functions) {
        StringBuilder sb = new StringBuilder(TOOLS_BLOCK_BEFORE_SCHEMAS.length() + 256 * functions.size());
        sb.append(TOOLS_BLOCK_BEFORE_SCHEMAS);
        for (int i = 0; i < functions.size(); i++) {
            if (i > 0) sb.append('\n');
            PythonJson.write(functions.get(i), sb);
        }
        return sb.append(TOOLS_BLOCK_AFTER_SCHEMAS).toString();
    }

    /** {@code encode_arguments_to_dsml} (encoding.md §5.5): one parameter per key, strings raw, others as JSON. */
    private static void encodeArgumentsToDsml(JsonNode rawArguments, String at, StringBuilder out) {
        if (rawArguments == null || !rawArguments.isTextual()) {
            throw new EncodingException(at, "must be a string holding a JSON object, got " + describe(rawArguments)
                    + " (the official encoder calls json.loads on it)");
        }
        JsonNode args;
        try {
            args = PythonJson.loads(rawArguments.textValue());
        } catch (IllegalArgumentException e) {
            throw new EncodingException(at, "not valid JSON: " + e.getMessage(), e);
        }
        if (!args.isObject()) throw new EncodingException(at, "must be a JSON object, got " + describe(args));
        boolean first = true;
        for (Map.Entry<String, JsonNode> e : args.properties()) {
            if (!first) out.append('\n');
            first = false;
            JsonNode v = e.getValue();
            boolean isString = v.isTextual();
            out.append('<').append(DSML).append("parameter name=\"").append(e.getKey())
                    .append("\" string=\"").append(isString ? "true" : "false").append("\">");
            if (isString) out.append(v.textValue());
            else PythonJson.write(v, out);
            out.append("</").append(DSML).append("parameter>");
        }
    }

    private static List<JsonNode> toJson(List<Message> messages) {
        Objects.requireNonNull(messages, "messages");
        List<JsonNode> out = new ArrayList<>(messages.size());
        for (Message m : messages) out.add(PythonJson.mapper().valueToTree(Objects.requireNonNull(m, "message")));
        return out;
    }

    /** Options of {@link ChatEncoder}; defaults match the official test: thinking, drop_thinking, BOS. */
    public static final class Builder {
        private ThinkingMode thinkingMode = ThinkingMode.THINKING;
        private boolean dropThinking = true;
        private boolean addBosToken = true;
        private ModelVariant variant = ModelVariant.STANDARD;

        private Builder() {}

        public Builder thinkingMode(ThinkingMode mode) {
            this.thinkingMode = Objects.requireNonNull(mode, "thinkingMode");
            return this;
        }

        public Builder dropThinking(boolean drop) {
            this.dropThinking = drop;
            return this;
        }

        public Builder addBosToken(boolean add) {
            this.addBosToken = add;
            return this;
        }

        public Builder variant(ModelVariant v) {
            this.variant = Objects.requireNonNull(v, "variant");
            return this;
        }

        public ChatEncoder build() {
            return new ChatEncoder(this);
        }
    }
}
