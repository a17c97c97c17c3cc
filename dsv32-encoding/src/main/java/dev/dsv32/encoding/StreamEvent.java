package dev.dsv32.encoding;

/**
 * Events of the {@link StreamingParser}, in text order. Visible deltas never contain a DSML marker, a think marker or
 * a special token, whole or partial. For each tool call: {@link ToolCallStarted} when its header is complete, then
 * {@link ToolCallArgumentsDelta}s whose concatenation is the final {@code arguments} string, then
 * {@link ToolCallFinished} (or, rarely, {@link ToolCallFailed}).
 */
public sealed interface StreamEvent {
    /** Reasoning text ({@code reasoning_content}). */
    record ReasoningDelta(String text) implements StreamEvent {}

    /** Visible answer text ({@code content}). */
    record ContentDelta(String text) implements StreamEvent {}

    /**
     * A tool call began. {@code index} is the call's position in the final {@code tool_calls} list (a failed call's
     * index is taken by the next call).
     */
    record ToolCallStarted(int index, String name) implements StreamEvent {}

    /** More of the call's {@code arguments} JSON, at parameter boundaries. */
    record ToolCallArgumentsDelta(int index, String delta) implements StreamEvent {}

    /** The call is complete. */
    record ToolCallFinished(int index, ToolCall call) implements StreamEvent {}

    /**
     * A started call could not be read (its body was neither parameters nor a JSON object) and is not part of the
     * result; {@code reason} says why (the text is in the result's repairs).
     */
    record ToolCallFailed(int index, String reason) implements StreamEvent {}

    /** End of the completion; {@code result} is what the lenient parser returns for the whole text. */
    record Done(ParseResult result) implements StreamEvent {}
}
