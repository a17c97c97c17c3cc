package dev.dsv32.api;

/** Why generation ended. */
public enum FinishReason {
    /** The model wrote the end-of-sentence token and no tool call. */
    STOP,
    /** The model wrote the end-of-sentence token after tool calls. */
    TOOL_CALLS,
    /** {@code maxTokens} was reached, or the sequence filled the model's context. */
    LENGTH,
    /** A stop string appeared (it is not part of the result). */
    STOP_STRING,
    /** The caller cancelled (seen by stream listeners in the final event). */
    CANCELLED,
    /** The request's timeout passed; the result holds what was generated until then. */
    TIMEOUT
}
