package dev.dsv32.encoding;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/** An OpenAI-format tool declaration: {@code {"type":"function","function":{…}}}. Only the function is rendered. */
@JsonPropertyOrder({"type", "function"})
public record Tool(String type, FunctionSpec function) {
    public Tool {
        Objects.requireNonNull(function, "function");
        if (type == null) type = "function";
    }

    /** Declares a function; {@code parameters} is its JSON schema (may be null). */
    public static Tool function(String name, String description, JsonNode parameters) {
        return new Tool("function", new FunctionSpec(name, description, parameters, null));
    }

    public String name() {
        return function.name();
    }
}
