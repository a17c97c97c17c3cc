package dev.dsv32.api.tools;

import dev.dsv32.encoding.ToolCall;
import java.time.Duration;
import java.util.Objects;

/**
 * One tool call the agent handled.
 *
 * @param step the agent step (1-based) whose completion made the call
 * @param call the call as the model wrote it (with its id)
 * @param result what the model was sent back (the tool's result, or an error object {@code {"error": "..."}})
 * @param error whether it failed: unknown tool, invalid arguments, an exception, a timeout
 * @param duration how long the tool ran
 */
public record ToolInvocation(int step, ToolCall call, String result, boolean error, Duration duration) {
    public ToolInvocation {
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(duration, "duration");
    }
}
