package dev.dsv32.tools;

import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.DsmlParseException;
import dev.dsv32.encoding.LenientParser;
import dev.dsv32.encoding.Message;
import dev.dsv32.encoding.ParseOptions;
import dev.dsv32.encoding.ParseResult;
import dev.dsv32.encoding.PythonJson;
import dev.dsv32.encoding.Repair;
import dev.dsv32.encoding.StreamEvent;
import dev.dsv32.encoding.StreamingParser;
import dev.dsv32.encoding.StrictParser;
import dev.dsv32.encoding.ThinkingMode;
import dev.dsv32.encoding.ToolCall;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dsv32 demo}: walks through the encoding module on a built-in tool-use conversation: the prompt, the
 * completion the model would write, strict and lenient parsing (of a malformed completion too) and streaming.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Show the encoder and the parsers at work on a built-in tool-use conversation.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--chunk-size", paramLabel = "N", defaultValue = "16",
            description = "Characters per chunk fed to the streaming parser (default: ${DEFAULT-VALUE})")
    int chunkSize;

    @Override
    public Integer call() {
        if (chunkSize < 1) throw new CliException("--chunk-size must be at least 1, got " + chunkSize);
        PrintWriter out = spec.commandLine().getOut();
        run(out, chunkSize);
        out.flush();
        return 0;
    }

    static void run(PrintWriter out, int chunkSize) {
        ChatEncoder encoder = SampleConversation.encoder();
        List<Message> all = SampleConversation.messages();

        out.println("dsv32 demo: DeepSeek-V3.2 chat encoding, version " + VersionProvider.version());
        out.println("(Encoding, tokenization and parsing only: the inference engine does not exist yet, so the model");
        out.println(" output below is the text the model would generate, rendered from the sample conversation.)");

        heading(out, "1. Conversation (OpenAI format)");
        for (int i = 0; i < all.size(); i++) out.println(describe(i, all.get(i)));

        List<Message> history = all.subList(0, 4);
        String prompt = encoder.encode(history);
        heading(out, "2. Prompt for the final answer: encode(messages[0..3]), thinking mode");
        out.println("The model is asked to continue after the tool result; the prompt ends with \"\\n\\n<think>\".");
        verbatim(out, "prompt", prompt);

        String answer = SampleConversation.answerCompletion();
        heading(out, "3. Completion the model writes (messages[4] rendered after that prompt)");
        verbatim(out, "completion", answer);
        boolean concatenates = (prompt + answer).equals(encoder.encode(all));
        out.println("prompt + completion == encode(all 5 messages): " + yesNo(concatenates));
        tokenize(out, prompt, answer);

        String toolCall = SampleConversation.toolCallCompletion();
        heading(out, "4. Strict parse of the tool-call turn (official parse_message_from_completion_text)");
        verbatim(out, "completion", toolCall);
        Message parsed = StrictParser.parse(toolCall, ThinkingMode.THINKING);
        out.println("StrictParser.parse(completion, thinking) ->");
        out.println(Json.pretty(Json.tree(parsed)));
        boolean roundTrip = parsed.reasoningContent().equals(SampleConversation.TOOL_CALL_TURN.reasoningContent())
                && parsed.toolCallsOrEmpty().equals(SampleConversation.TOOL_CALL_TURN.toolCallsOrEmpty());
        out.println("round trip (reasoning and tool calls equal messages[2]): " + yesNo(roundTrip));

        String malformed = SampleConversation.malformedCompletion();
        heading(out, "5. A malformed completion: strict vs lenient");
        out.println("Same turn, damaged as real output can be: one newline before the tool-call block, a bare word in a");
        out.println("string=\"false\" parameter, no <｜end▁of▁sentence｜>.");
        verbatim(out, "completion", malformed);
        try {
            StrictParser.parse(malformed, ThinkingMode.THINKING);
            out.println("StrictParser: accepted (unexpected)");
        } catch (DsmlParseException e) {
            out.println("StrictParser: rejected: " + e.getMessage());
        }
        ParseOptions options = ParseOptions.builder().tools(List.of(SampleConversation.GET_WEATHER)).build();
        try {
            ParseResult lenient = LenientParser.parse(malformed, ThinkingMode.THINKING, options);
            out.println("LenientParser.parse(completion, thinking, tools=[get_weather]) ->");
            out.println(Json.pretty(Json.tree(lenient.message())));
            out.println("repairs (" + lenient.repairs().size() + "):");
            if (lenient.repairs().isEmpty()) out.println("  (none)");
            for (Repair r : lenient.repairs()) {
                out.println("  - " + r.kind() + " at offset " + r.offset() + ": " + r.detail());
            }
        } catch (RuntimeException e) {
            out.println("LenientParser: failed: " + e);
        }

        heading(out, "6. Streaming: the tool-call completion fed in " + chunkSize + "-character chunks");
        try {
            stream(out, toolCall, chunkSize, options);
        } catch (RuntimeException e) {
            out.println("StreamingParser: failed: " + e);
        }
        out.println();
    }

    private static void stream(PrintWriter out, String text, int chunkSize, ParseOptions options) {
        StreamingParser p = new StreamingParser(ThinkingMode.THINKING, options);
        List<StreamEvent> events = new ArrayList<>();
        int chunks = 0;
        for (int i = 0; i < text.length(); i += chunkSize) {
            int end = Math.min(text.length(), i + chunkSize);
            // Never split a surrogate pair: a real detokenizer hands out whole characters.
            if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) end++;
            events.addAll(p.feed(text.substring(i, end)));
            chunks++;
            i = end - chunkSize;
        }
        events.addAll(p.finish());
        out.println(chunks + " chunks -> " + events.size() + " events:");
        for (StreamEvent e : events) out.println("  " + describe(e));
        ParseResult streamed = p.result();
        ParseResult whole = LenientParser.parse(text, ThinkingMode.THINKING, options);
        out.println("streamed result == LenientParser on the whole text: " + yesNo(streamed.message().equals(whole.message())));
    }

    /** Token ids of the prompt and completion with the bundled V3.2 tokenizer, if it loads. */
    private static void tokenize(PrintWriter out, String prompt, String completion) {
        try {
            Tokenizer tok = Tokenizer.v32();
            int[] promptIds = tok.encode(prompt);
            int[] completionIds = tok.encode(completion);
            out.println("tokens (V3.2 tokenizer): prompt " + promptIds.length + ", completion " + completionIds.length
                    + "; decode(encode(text)) == text: " + yesNo(tok.decode(promptIds).equals(prompt)
                    && tok.decode(completionIds).equals(completion)));
            StringBuilder sb = new StringBuilder("completion ids:");
            int shown = Math.min(completionIds.length, 12);
            for (int i = 0; i < shown; i++) {
                sb.append(' ').append(completionIds[i]).append('=').append(PythonJson.quote(tok.decode(new int[] {completionIds[i]})));
            }
            if (shown < completionIds.length) sb.append(" ...");
            out.println(sb);
        } catch (RuntimeException e) {
            out.println("tokenizer unavailable: " + e);
        }
    }

    private static String describe(StreamEvent e) {
        if (e instanceof StreamEvent.ReasoningDelta d) return pad("reasoning") + PythonJson.quote(d.text());
        if (e instanceof StreamEvent.ContentDelta d) return pad("content") + PythonJson.quote(d.text());
        if (e instanceof StreamEvent.ToolCallStarted s) return pad("tool_call_started") + "#" + s.index() + " " + s.name();
        if (e instanceof StreamEvent.ToolCallArgumentsDelta d) {
            return pad("tool_call_arguments") + "#" + d.index() + " " + PythonJson.quote(d.delta());
        }
        if (e instanceof StreamEvent.ToolCallFinished f) {
            return pad("tool_call_finished") + "#" + f.index() + " " + f.call().name() + " " + f.call().arguments();
        }
        if (e instanceof StreamEvent.Done d) {
            Message m = d.result().message();
            return pad("done") + "content=" + PythonJson.quote(m.content() == null ? "" : m.content())
                    + ", tool_calls=" + m.toolCallsOrEmpty().size() + ", repairs=" + d.result().repairs().size();
        }
        return String.valueOf(e);
    }

    private static String pad(String s) {
        return String.format(java.util.Locale.ROOT, "%-20s", s);
    }

    private static String describe(int i, Message m) {
        StringBuilder sb = new StringBuilder();
        sb.append('[').append(i).append("] ").append(String.format(java.util.Locale.ROOT, "%-10s", m.role().wireName()));
        List<String> parts = new ArrayList<>();
        if (m.content() != null) parts.add("content " + PythonJson.quote(m.content()));
        if (m.reasoningContent() != null) parts.add("reasoning " + PythonJson.quote(m.reasoningContent()));
        for (ToolCall c : m.toolCallsOrEmpty()) parts.add("calls " + c.name() + "(" + c.arguments() + ")");
        if (m.tools() != null) {
            List<String> names = new ArrayList<>();
            m.tools().forEach(t -> names.add(t.name()));
            parts.add("tools " + names);
        }
        sb.append(String.join("\n              ", parts));
        return sb.toString();
    }

    private static void heading(PrintWriter out, String title) {
        out.println();
        out.println("== " + title + " ==");
    }

    private static void verbatim(PrintWriter out, String what, String text) {
        out.println("----- " + what + ": " + text.length() + " chars, " + text.getBytes(StandardCharsets.UTF_8).length
                + " UTF-8 bytes -----");
        out.println(text);
        out.println("----- end of " + what + " (no trailing newline) -----");
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "NO";
    }
}
