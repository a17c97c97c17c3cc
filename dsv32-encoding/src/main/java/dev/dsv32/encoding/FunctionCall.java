package dev.dsv32.encoding;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.util.Objects;

/**
 * The function part of an OpenAI tool call. {@code arguments} is a JSON object as a string, exactly as the model
 * produced it (or as the official parser rebuilt it). When read from JSON, an object given in place of the string is
 * accepted and written with Python's {@code json.dumps} (encoding-failure-modes.md §9b).
 */
public record FunctionCall(String name, @JsonDeserialize(using = FunctionCall.ArgumentsDeserializer.class) String arguments) {
    public FunctionCall {
        Objects.requireNonNull(name, "function.name");
        Objects.requireNonNull(arguments, "function.arguments");
    }

    /** Accepts a JSON string, or a JSON object which it serialises the Python way. */
    static final class ArgumentsDeserializer extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNode node = ctxt.readTree(p);
            if (node == null || node.isNull()) return null;
            if (node.isTextual()) return node.textValue();
            if (node.isObject()) return PythonJson.dumps(node);
            return ctxt.reportInputMismatch(String.class,
                    "function.arguments must be a JSON object or a string holding one, got " + node.getNodeType());
        }
    }
}
