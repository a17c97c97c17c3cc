package dev.dsv32.encoding;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A function declared to the model: name, description and a JSON-schema for its parameters. It is rendered into the
 * prompt with {@code json.dumps} in this key order (name, description, parameters, strict).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "description", "parameters", "strict"})
public record FunctionSpec(String name, String description, JsonNode parameters, Boolean strict) {
    public FunctionSpec {
        Objects.requireNonNull(name, "function.name");
    }
}
