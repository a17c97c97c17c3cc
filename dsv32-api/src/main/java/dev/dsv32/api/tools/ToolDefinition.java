package dev.dsv32.api.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.Tool;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One tool: name, description, JSON schema of its arguments, and the handler that runs it.
 *
 * @param name the function name the model writes (letters, digits, {@code _ - .}; at most 64)
 * @param description what the model reads about it
 * @param parameters the JSON schema of the arguments object ({@code "type": "object"})
 * @param handler runs a call
 */
public record ToolDefinition(String name, String description, ObjectNode parameters, ToolHandler handler) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");

    public ToolDefinition {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("tool name \"" + name + "\" must be 1-64 letters, digits, '_', '-' or '.'");
        }
        description = description == null ? "" : description;
        Objects.requireNonNull(parameters, "parameters of tool " + name);
        JsonNode type = parameters.get("type");
        if (type == null || !"object".equals(type.asText())) {
            throw new IllegalArgumentException("tool " + name + ": the parameters schema must have \"type\": \"object\", got " + parameters);
        }
        Objects.requireNonNull(handler, "handler of tool " + name);
        parameters = parameters.deepCopy();
    }

    @Override
    public ObjectNode parameters() {
        return parameters.deepCopy();
    }

    /** The declaration in OpenAI format, as the encoder renders it. */
    public Tool spec() {
        return Tool.function(name, description.isEmpty() ? null : description, parameters.deepCopy());
    }
}
