package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.encoding.CompletionTexts.Collected;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Properties of the lenient and streaming parsers:
 * <ul>
 *   <li>on any text, neither throws, and streaming in any chunking gives the whole-text result;</li>
 *   <li>on any well-formed completion (made by the encoder), the lenient result equals the strict one with no repairs,
 *       and splitting the text at every possible boundary gives, per kind, the same concatenated deltas and the same
 *       tool calls as parsing it whole, with no marker in any visible delta.</li>
 * </ul>
 */
class ParserProperties {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ChatEncoder THINKING = ChatEncoder.builder().thinkingMode(ThinkingMode.THINKING).build();
    private static final ChatEncoder CHAT = ChatEncoder.builder().thinkingMode(ThinkingMode.CHAT).build();

    // ------------------------------------------------------------------ arbitrary text

    /** Text made of fragments that stress the grammar: markers and their pieces, whitespace, JSON, unicode. */
    @Provide
    Arbitrary<String> nastyText() {
        Arbitrary<String> fragment = Arbitraries.oneOf(
                Arbitraries.of("<", ">", "</", "\n", "\n\n", "\r\n", " ", "\"", "=", "{", "}", "[1, 2]", "true",
                        "<think>", "</think>", Tokens.EOS, Tokens.BOS, "<\uFF5CUser\uFF5C>", "\uFF5C", "DSML", "\uFF5CDSML\uFF5C",
                        "<\uFF5CDSML\uFF5Cfunction_calls>", "</\uFF5CDSML\uFF5Cfunction_calls>", "<\uFF5CDSML\uFF5Cinvoke name=\"f\">",
                        "</\uFF5CDSML\uFF5Cinvoke>", "<\uFF5CDSML\uFF5Cparameter name=\"a\" string=\"true\">",
                        "<\uFF5CDSML\uFF5Cparameter name=\"b\" string=\"false\">", "<\uFF5CDSML\uFF5Cparameter name=\"c\">",
                        "</\uFF5CDSML\uFF5Cparameter>", "<|DSML|invoke name=\"g\">", "<parameter name=\"p\">", "</parameter>",
                        "<\uFF5C\uFF5CDSML\uFF5C\uFF5Ctool_calls>", "</\uFF5CDSML\uFF5Cinvoke", "name=\"x\"", "string=\"true\""),
                Arbitraries.strings().ofMaxLength(6),
                Arbitraries.strings().withCharRange('\u4e00', '\u4e10').ofMaxLength(3),
                Arbitraries.of("\uD83D\uDE00", "\uD83D\uDC68\u200D\uD83D\uDC69", "\u2028", "\u0085", "\u3000"));
        return fragment.list().ofMaxSize(40).map(l -> String.join("", l));
    }

    @Property(tries = 600)
    void lenientAndStreamingNeverThrowAndAgree(@ForAll("nastyText") String text, @ForAll boolean thinking,
                                               @ForAll("cutSeeds") long seed) {
        ThinkingMode mode = thinking ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        ParseResult whole = LenientParser.parse(text, mode);
        Collected streamed = CompletionTexts.stream(text, mode, ParseOptions.defaults(), randomCuts(text, seed));
        assertEquals(whole, streamed.result);
        assertEquals(whole.message().content(), streamed.content.toString());
        assertEquals(whole.message().reasoningContent(), streamed.reasoning.toString());
        assertEquals(whole.message().toolCalls(), streamed.finished);
        assertEquals(whole.message().toolCalls(), streamed.streamedCalls());
        Collected byChar = CompletionTexts.streamCharByChar(text, mode, ParseOptions.defaults());
        assertEquals(whole, byChar.result);
    }

    @Provide
    Arbitrary<Long> cutSeeds() {
        return Arbitraries.longs();
    }

    private static int[] randomCuts(String text, long seed) {
        Random r = new Random(seed);
        List<Integer> cuts = new ArrayList<>();
        int i = 0;
        while (true) {
            i += 1 + r.nextInt(8);
            if (i >= text.length()) break;
            cuts.add(i);
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    // ------------------------------------------------------------------ well-formed completions

    @Provide
    Arbitrary<String> plainText() {
        return Arbitraries.oneOf(
                        Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(12),
                        Arbitraries.of("\n", "\n\n", " ", "a < b", "<p>", "x>y", "\"q\"", "<thinking>", "|DSML|", "\uFF5C",
                                "\u4f60\u597d", "\uD83D\uDE00", "\r\n", "<\uFF5C>", "</b>", "<", "<\uFF5CDS", "<|DS", "<\uFF5CUser"))
                .list().ofMaxSize(8).map(l -> String.join("", l))
                .filter(ParserProperties::strictAllowsInText);
    }

    private static final java.util.regex.Pattern LENIENT_MARKUP = java.util.regex.Pattern.compile(
            "<[\uFF5C|\u2016]{1,2}[ \t]*DSML|<\uFF5C[^\uFF5C<>\\s]{1,64}\uFF5C>|</?(parameter|invoke)\\b");

    /**
     * What the strict parser allows in reasoning or content (no BOS, EOS, think tags or DSML sentinel), minus what the
     * lenient parser reads as markup on purpose (sentinel variants, other special tokens).
     */
    private static boolean strictAllowsInText(String s) {
        if (s.contains(Tokens.EOS) || s.contains(Tokens.BOS) || s.contains(Tokens.DSML)) return false;
        if (s.contains(Tokens.THINK_START) || s.contains(Tokens.THINK_END)) return false;
        return !LENIENT_MARKUP.matcher(s).find();
    }

    @Provide
    Arbitrary<JsonNode> jsonValue() {
        Arbitrary<JsonNode> scalar = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(10).filter(ParserProperties::safeValue).map(F::textNode),
                Arbitraries.of("multi\nline <tag> \"q\" </think> " + Tokens.EOS, "{\"looks\": \"json\"}", "123", "", " ")
                        .map(s -> (JsonNode) F.textNode(s)),
                Arbitraries.integers().map(i -> (JsonNode) F.numberNode(i)),
                Arbitraries.doubles().map(d -> (JsonNode) F.numberNode(d)),
                Arbitraries.of(1e-07, 1e16, 100000.0, -0.0, 0.5).map(d -> (JsonNode) F.numberNode(d)),
                Arbitraries.of(true, false).map(b -> (JsonNode) F.booleanNode(b)),
                Arbitraries.just(F.nullNode()));
        Arbitrary<JsonNode> array = scalar.list().ofMaxSize(3).map(l -> {
            ArrayNode a = F.arrayNode();
            l.forEach(a::add);
            return a;
        });
        Arbitrary<JsonNode> object = Combinators.combine(Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(4), scalar)
                .as(Tuple::of).list().ofMaxSize(3).map(l -> {
                    ObjectNode o = F.objectNode();
                    l.forEach(t -> o.set(t.get1(), t.get2()));
                    return o;
                });
        return Arbitraries.frequencyOf(Tuple.of(6, scalar), Tuple.of(1, array), Tuple.of(1, object));
    }

    private static boolean safeValue(String s) {
        return !s.contains("/\uFF5CDSML\uFF5Cparameter") && !s.contains("\uFF5CDSML\uFF5C") && !s.contains("DSML")
                && !s.contains("<parameter") && !s.contains("</parameter") && !s.contains("<invoke") && !s.contains("</invoke");
    }

    @Provide
    Arbitrary<ToolCall> toolCall() {
        Arbitrary<String> name = Arbitraries.of("get_weather", "search", "f", "read_file", "x1");
        Arbitrary<String> args = Combinators.combine(Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6), jsonValue())
                .as(Tuple::of).list().ofMaxSize(4).map(l -> {
                    ObjectNode o = F.objectNode();
                    l.forEach(t -> o.set(t.get1(), t.get2()));
                    return PythonJson.dumps(o);
                });
        return Combinators.combine(name, args).as(ToolCall::of);
    }

    @Provide
    Arbitrary<Tuple.Tuple4<String, String, List<ToolCall>, Boolean>> assistantTurn() {
        return Combinators.combine(plainText(), plainText(), toolCall().list().ofMaxSize(3), Arbitraries.of(true, false))
                .as(Tuple::of);
    }

    /** Encodes the assistant turn as the model would produce it after a user message. */
    private static String completion(String reasoning, String content, List<ToolCall> calls, boolean thinking) {
        Message user = Message.user("q");
        Message assistant = Message.assistant(content, thinking ? reasoning : null, calls.isEmpty() ? null : calls);
        if (thinking && reasoning.isEmpty() && calls.isEmpty()) assistant = assistant.withReasoningContent("r");
        return (thinking ? THINKING : CHAT).encode(List.of(user), List.of(assistant));
    }

    @Property(tries = 400)
    void wellFormedCompletionsParseTheSameWholeStrictLenientAndAtEverySplit(
            @ForAll("assistantTurn") Tuple.Tuple4<String, String, List<ToolCall>, Boolean> turn, @ForAll boolean dropEos) {
        boolean thinking = turn.get4();
        ThinkingMode mode = thinking ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        String text = completion(turn.get1(), turn.get2(), turn.get3(), thinking);
        if (dropEos && !turn.get3().isEmpty()) text = text.substring(0, text.length() - Tokens.EOS.length());

        Message strict = StrictParser.parse(text, mode);
        ParseResult whole = LenientParser.parse(text, mode);
        assertEquals(strict, whole.message(), text);
        assertEquals(List.of(), whole.repairs(), text);

        for (int cut = 0; cut <= text.length(); cut++) {
            assertSameAsWhole(whole, CompletionTexts.stream(text, mode, ParseOptions.defaults(), cut), text);
        }
        assertSameAsWhole(whole, CompletionTexts.streamCharByChar(text, mode, ParseOptions.defaults()), text);
    }

    private static void assertSameAsWhole(ParseResult whole, Collected c, String text) {
        Message m = whole.message();
        assertEquals(m.reasoningContent(), c.reasoning.toString(), text);
        assertEquals(m.content(), c.content.toString(), text);
        assertEquals(m.toolCalls(), c.finished, text);
        assertEquals(m.toolCalls(), c.streamedCalls(), text);
        assertEquals(whole, c.result, text);
        for (String marker : new String[] {"\uFF5CDSML\uFF5C", Tokens.EOS, Tokens.BOS}) {
            assertFalse(c.content.indexOf(marker) >= 0 || c.reasoning.indexOf(marker) >= 0, "marker leaked: " + marker);
        }
    }
}
