package dev.dsv32.api;

import dev.dsv32.encoding.ToolCall;

/**
 * What a streamed generation emits, in order: reasoning and content deltas and tool-call events as the text arrives
 * (from the streaming parser: no delta holds a marker or special token), then exactly one {@link Final}. The
 * reasoning deltas concatenated equal {@link GenerateResult#reasoning()}, the content deltas
 * {@link GenerateResult#content()}.
 */
public sealed interface Event {
    /** More reasoning ({@code reasoning_content}). */
    record ReasoningDelta(String text) implements Event {}

    /** More answer text ({@code content}). */
    record ContentDelta(String text) implements Event {}

    /** A tool call began; {@code index} is its position in the final tool-call list. */
    record ToolCallStarted(int index, String name) implements Event {}

    /** More of a tool call's arguments JSON. */
    record ToolCallArgumentsDelta(int index, String delta) implements Event {}

    /** A tool call is complete (with its id). */
    record ToolCallCompleted(int index, ToolCall call) implements Event {}

    /** A started tool call could not be read and is not part of the result. */
    record ToolCallFailed(int index, String reason) implements Event {}

    /** The end: the whole result (also for {@link FinishReason#CANCELLED} and {@link FinishReason#TIMEOUT}). */
    record Final(GenerateResult result) implements Event {}
}
