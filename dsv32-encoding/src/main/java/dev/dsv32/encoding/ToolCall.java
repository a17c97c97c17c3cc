package dev.dsv32.encoding;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Objects;

/** An OpenAI-format tool call: {@code {"id":…,"type":"function","function":{"name":…,"arguments":"{…}"}}}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"id", "type", "function"})
public record ToolCall(String id, String type, FunctionCall function) {
    public ToolCall {
        Objects.requireNonNull(function, "function");
        if (type == null) type = "function";
    }

    /** A call without an id; {@code argumentsJson} must be a JSON object as text. */
    public static ToolCall of(String name, String argumentsJson) {
        return new ToolCall(null, "function", new FunctionCall(name, argumentsJson));
    }

    public ToolCall withId(String newId) {
        return new ToolCall(newId, type, function);
    }

    public String name() {
        return function.name();
    }

    public String arguments() {
        return function.arguments();
    }
}
