package dev.dsv32.encoding;

import dev.dsv32.encoding.StreamEvent.ContentDelta;
import dev.dsv32.encoding.StreamEvent.ReasoningDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallArgumentsDelta;
import dev.dsv32.encoding.StreamEvent.ToolCallFinished;
import dev.dsv32.encoding.StreamEvent.ToolCallStarted;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Helpers shared by the parser tests: completion strings and what a stream of events adds up to. */
final class CompletionTexts {
    private CompletionTexts() {}

    static final String D = Tokens.DSML;
    static final String EOS = Tokens.EOS;

    static String invoke(String name, String... params) {
        StringBuilder sb = new StringBuilder("<" + D + "invoke name=\"" + name + "\">\n");
        sb.append(String.join("\n", params));
        return sb.append("\n</" + D + "invoke>").toString();
    }

    static String param(String name, boolean string, String value) {
        return "<" + D + "parameter name=\"" + name + "\" string=\"" + string + "\">" + value + "</" + D + "parameter>";
    }

    static String block(String... invokes) {
        return "\n\n<" + D + "function_calls>\n" + String.join("\n", invokes) + "\n</" + D + "function_calls>";
    }

    /** Everything a stream of events said, per kind. */
    static final class Collected {
        final StringBuilder reasoning = new StringBuilder();
        final StringBuilder content = new StringBuilder();
        final Map<Integer, String> names = new TreeMap<>();
        final Map<Integer, StringBuilder> arguments = new TreeMap<>();
        final List<ToolCall> finished = new ArrayList<>();
        ParseResult result;

        void accept(List<StreamEvent> events) {
            for (StreamEvent e : events) {
                if (e instanceof ReasoningDelta) reasoning.append(((ReasoningDelta) e).text());
                else if (e instanceof ContentDelta) content.append(((ContentDelta) e).text());
                else if (e instanceof ToolCallStarted) {
                    ToolCallStarted s = (ToolCallStarted) e;
                    names.put(s.index(), s.name());
                    arguments.put(s.index(), new StringBuilder());
                } else if (e instanceof ToolCallArgumentsDelta) {
                    ToolCallArgumentsDelta a = (ToolCallArgumentsDelta) e;
                    arguments.get(a.index()).append(a.delta());
                } else if (e instanceof ToolCallFinished) finished.add(((ToolCallFinished) e).call());
                else if (e instanceof StreamEvent.ToolCallFailed) {
                    int i = ((StreamEvent.ToolCallFailed) e).index();
                    names.remove(i);
                    arguments.remove(i);
                } else if (e instanceof StreamEvent.Done) result = ((StreamEvent.Done) e).result();
            }
        }

        List<ToolCall> streamedCalls() {
            List<ToolCall> calls = new ArrayList<>();
            for (Map.Entry<Integer, String> e : names.entrySet()) {
                calls.add(ToolCall.of(e.getValue(), arguments.get(e.getKey()).toString()));
            }
            return calls;
        }
    }

    /** Feeds {@code text} cut at the given ascending boundaries. */
    static Collected stream(String text, ThinkingMode mode, ParseOptions options, int... cuts) {
        StreamingParser p = new StreamingParser(mode, options);
        Collected c = new Collected();
        int prev = 0;
        for (int cut : cuts) {
            c.accept(p.feed(text.substring(prev, cut)));
            prev = cut;
        }
        c.accept(p.feed(text.substring(prev)));
        c.accept(p.finish());
        return c;
    }

    static Collected streamCharByChar(String text, ThinkingMode mode, ParseOptions options) {
        StreamingParser p = new StreamingParser(mode, options);
        Collected c = new Collected();
        for (int i = 0; i < text.length(); i++) c.accept(p.feed(text.substring(i, i + 1)));
        c.accept(p.finish());
        return c;
    }
}
