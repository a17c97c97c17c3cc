package dev.dsv32.api.tools;

import com.fasterxml.jackson.databind.JsonNode;

/** Runs a tool: takes the call's arguments (a JSON object, already validated against the schema). */
@FunctionalInterface
public interface ToolHandler {
    /**
     * @return the result for the model: a String is sent as is, anything else as JSON (null as {@code null})
     * @throws Exception any failure; the model sees it as an error result
     */
    Object call(JsonNode arguments) throws Exception;
}
