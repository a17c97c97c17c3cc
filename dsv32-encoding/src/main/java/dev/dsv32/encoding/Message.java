package dev.dsv32.encoding;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * One chat message in OpenAI-compatible form. Immutable. Read and written with Jackson using the wire names
 * ({@code reasoning_content}, also accepted as {@code reasoning}; {@code tool_calls}; {@code tool_call_id};
 * {@code response_format}).
 *
 * <p>{@code tools} and {@code response_format} are rendered only on system and developer messages (encoding.md §4).
 * Content given as a list of OpenAI text parts is joined into one string; other part types are rejected.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name", "tools", "response_format"})
public record Message(
        Role role,
        @JsonDeserialize(using = Message.ContentDeserializer.class) String content,
        @JsonProperty("reasoning_content") @JsonAlias("reasoning") String reasoningContent,
        @JsonProperty("tool_calls") List<ToolCall> toolCalls,
        @JsonProperty("tool_call_id") String toolCallId,
        String name,
        List<Tool> tools,
        @JsonProperty("response_format") JsonNode responseFormat) {

    public Message {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? null : List.copyOf(toolCalls);
        tools = tools == null ? null : List.copyOf(tools);
    }

    public static Message system(String content) {
        return new Message(Role.SYSTEM, Objects.requireNonNull(content, "content"), null, null, null, null, null, null);
    }

    /** A developer (search-agent) message; its content must be non-empty. */
    public static Message developer(String content) {
        if (content == null || content.isEmpty()) throw new IllegalArgumentException("developer content must be non-empty");
        return new Message(Role.DEVELOPER, content, null, null, null, null, null, null);
    }

    public static Message user(String content) {
        return new Message(Role.USER, Objects.requireNonNull(content, "content"), null, null, null, null, null, null);
    }

    public static Message assistant(String content) {
        return new Message(Role.ASSISTANT, content, null, null, null, null, null, null);
    }

    public static Message assistant(String content, String reasoningContent, List<ToolCall> toolCalls) {
        return new Message(Role.ASSISTANT, content, reasoningContent, toolCalls, null, null, null, null);
    }

    /** A tool result. Results are matched to calls by position (the id is carried, not rendered). */
    public static Message tool(String toolCallId, String content) {
        return new Message(Role.TOOL, Objects.requireNonNull(content, "content"), null, null, toolCallId, null, null, null);
    }

    public Message withTools(List<Tool> newTools) {
        return new Message(role, content, reasoningContent, toolCalls, toolCallId, name, newTools, responseFormat);
    }

    public Message withResponseFormat(JsonNode format) {
        return new Message(role, content, reasoningContent, toolCalls, toolCallId, name, tools, format);
    }

    public Message withReasoningContent(String reasoning) {
        return new Message(role, content, reasoning, toolCalls, toolCallId, name, tools, responseFormat);
    }

    public Message withContent(String newContent) {
        return new Message(role, newContent, reasoningContent, toolCalls, toolCallId, name, tools, responseFormat);
    }

    /** Tool calls, never null. */
    public List<ToolCall> toolCallsOrEmpty() {
        return toolCalls == null ? List.of() : toolCalls;
    }

    /** Accepts a string, null, or a list of {@code {"type":"text","text":…}} parts (joined without separator). */
    static final class ContentDeserializer extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNode node = ctxt.readTree(p);
            if (node == null || node.isNull()) return null;
            if (node.isTextual()) return node.textValue();
            if (node.isArray()) {
                StringBuilder sb = new StringBuilder();
                int i = 0;
                for (JsonNode part : node) {
                    JsonNode type = part.get("type");
                    JsonNode text = part.get("text");
                    if (type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                        return ctxt.reportInputMismatch(String.class,
                                "content[" + i + "]: only {\"type\":\"text\",\"text\":…} parts are supported");
                    }
                    sb.append(text.textValue());
                    i++;
                }
                return sb.toString();
            }
            return ctxt.reportInputMismatch(String.class, "content must be a string or a list of text parts, got "
                    + node.getNodeType());
        }
    }
}
