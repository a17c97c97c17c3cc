package dev.dsv32.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.Tool;
import java.io.UncheckedIOException;

/** JSON output of the CLI (standard JSON via Jackson; non-ASCII written as is). */
final class Json {
    private Json() {}

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    /** The message with the record's wire names; null fields (ids, tools, ...) are left out. */
    static ObjectNode tree(Message m) {
        return MAPPER.valueToTree(m);
    }

    /** The message plus {@code "repairs": [{"kind", "detail", "offset"}, ...]}. */
    static ObjectNode withRepairs(ParseResult r) {
        ObjectNode node = tree(r.message());
        node.set("repairs", MAPPER.valueToTree(r.repairs()));
        return node;
    }

    static Tool toTool(JsonNode node, String where) {
        if (node == null || !node.isObject()) {
            throw new CliException(where + ": expected {\"type\": \"function\", \"function\": {...}}, got "
                    + (node == null ? "nothing" : EncodeCommand.kind(node)));
        }
        JsonNode fn = node.get("function");
        if (fn == null || !fn.isObject() || !fn.path("name").isTextual()) {
            throw new CliException(where + ": missing \"function\" object with a \"name\" string");
        }
        try {
            return MAPPER.treeToValue(node, Tool.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String msg = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw new CliException(where + ": " + msg, e);
        }
    }

    static String compact(JsonNode n) {
        try {
            return MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String pretty(JsonNode n) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
