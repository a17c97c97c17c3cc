package dev.dsv32.api;

import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.Repair;
import dev.dsv32.encoding.ToolCall;
import java.util.List;
import java.util.Objects;

/**
 * One generated assistant turn.
 *
 * @param text the completion exactly as generated (special tokens written out, {@code <｜end▁of▁sentence｜>} at the end
 *     when the model wrote it; without a stop string that ended it)
 * @param content the visible answer
 * @param reasoning the thinking ({@code reasoning_content}); empty in chat mode
 * @param toolCalls the tool calls, with ids {@code call_<n>}
 * @param repairs what the lenient parser fixed in {@code text} (empty for well-formed output)
 * @param finishReason why generation ended
 * @param usage token counts and timings
 * @param tokenIds the completion token ids (including the end-of-sentence token)
 */
public record GenerateResult(String text, String content, String reasoning, List<ToolCall> toolCalls, List<Repair> repairs,
                             FinishReason finishReason, Usage usage, int[] tokenIds) {
    public GenerateResult {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(content, "content");
        Objects.requireNonNull(reasoning, "reasoning");
        toolCalls = List.copyOf(toolCalls);
        repairs = List.copyOf(repairs);
        Objects.requireNonNull(finishReason, "finishReason");
        Objects.requireNonNull(usage, "usage");
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Whether the model called tools. */
    public boolean hasToolCalls() {
        return !toolCalls.isEmpty();
    }

    /** The turn as an assistant message, to append to the conversation. */
    public Message message() {
        return Message.assistant(content, reasoning.isEmpty() ? null : reasoning, toolCalls.isEmpty() ? null : toolCalls);
    }

    @Override
    public String toString() {
        return "GenerateResult[finishReason=" + finishReason + ", content=" + abbreviate(content) + ", reasoning="
                + abbreviate(reasoning) + ", toolCalls=" + toolCalls + ", repairs=" + repairs.size() + ", usage=" + usage + "]";
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? '"' + s + '"' : '"' + s.substring(0, 77) + "...\" (" + s.length() + " chars)";
    }
}
