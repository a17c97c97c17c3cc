package dev.dsv32.api.tools;

import dev.dsv32.api.GenerateResult;
import dev.dsv32.encoding.Message;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link Agent#run}.
 *
 * @param stopReason why the loop ended
 * @param last the last generation (the final answer when {@link StopReason#FINAL_ANSWER})
 * @param messages the whole conversation: the input, then each assistant turn and tool result
 * @param invocations every tool call handled, in order
 * @param steps generations run
 */
public record AgentResult(StopReason stopReason, GenerateResult last, List<Message> messages, List<ToolInvocation> invocations,
                          int steps) {
    /** Why the agent loop ended. */
    public enum StopReason {
        /** The model answered without calling a tool. */
        FINAL_ANSWER,
        /** The step limit was reached while the model was still calling tools. */
        MAX_STEPS
    }

    public AgentResult {
        Objects.requireNonNull(stopReason, "stopReason");
        Objects.requireNonNull(last, "last");
        messages = List.copyOf(messages);
        invocations = List.copyOf(invocations);
    }

    /** The answer text of the last generation. */
    public String content() {
        return last.content();
    }
}
