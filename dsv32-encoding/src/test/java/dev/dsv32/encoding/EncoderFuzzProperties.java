package dev.dsv32.encoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz targets (RELIABILITY.md): the encoder on arbitrary message JSON and the strict parser on arbitrary text. Each
 * answer is a result or a clear exception ({@link EncodingException} / {@link DsmlParseException} with a message, or
 * {@link IllegalArgumentException}); never a NullPointerException, ClassCastException, IndexOutOfBounds or a hang.
 * Tries: {@code jqwik.tries.default}.
 */
class EncoderFuzzProperties {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] KEYS = {"role", "content", "reasoning_content", "tool_calls", "tools", "tool_call_id", "name",
        "function", "arguments", "type", "response_format", "parameters", "description", "properties", "required", "id", "prefix", "wo_eos"};
    private static final String[] STRINGS = {"system", "developer", "user", "assistant", "tool", "function", "latest_reminder", "",
        "{}", "{\"a\": 1}", "[1]", "not json", "{\"city\": \"Oslo\"}", "</think>", "<think>", Tokens.EOS, Tokens.BOS,
        "<" + Tokens.DSML + "invoke name=\"f\">", "\uD83D\uDE00", "\uD800", "\u0000", "object", "string", "json_object"};

    /** A random JSON value biased towards the shapes the encoder looks at (messages, tools, tool calls). */
    static JsonNode value(Random r, int depth) {
        int k = r.nextInt(depth > 3 ? 6 : 9);
        switch (k) {
            case 0: return F.nullNode();
            case 1: return F.booleanNode(r.nextBoolean());
            case 2: return r.nextBoolean() ? F.numberNode(r.nextInt(7) - 2) : F.numberNode(r.nextDouble() * 1e6);
            case 3: case 4: return F.textNode(STRINGS[r.nextInt(STRINGS.length)]);
            case 5: return F.textNode(randomText(r));
            case 6: case 7: {
                ObjectNode o = F.objectNode();
                int n = r.nextInt(5);
                for (int i = 0; i < n; i++) o.set(r.nextInt(6) == 0 ? randomText(r) : KEYS[r.nextInt(KEYS.length)], value(r, depth + 1));
                return o;
            }
            default: {
                ArrayNode a = F.arrayNode();
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) a.add(value(r, depth + 1));
                return a;
            }
        }
    }

    private static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(12);
        for (int i = 0; i < n; i++) sb.append((char) (r.nextInt(4) == 0 ? r.nextInt(0x10000) : ' ' + r.nextInt(95)));
        return sb.toString();
    }

    /** A message: an object with a likely role and a few likely fields, sometimes anything at all. */
    static JsonNode message(Random r) {
        if (r.nextInt(10) == 0) return value(r, 0);
        ObjectNode m = F.objectNode();
        m.put("role", new String[] {"system", "developer", "user", "assistant", "tool", "latest_reminder", "bogus"}[r.nextInt(7)]);
        if (r.nextInt(5) != 0) m.set("content", r.nextInt(3) == 0 ? value(r, 1) : F.textNode(randomText(r)));
        int extra = r.nextInt(3);
        for (int i = 0; i < extra; i++) {
            String key = KEYS[r.nextInt(KEYS.length)];
            if (key.equals("tool_calls") && r.nextBoolean()) {
                ArrayNode calls = m.putArray("tool_calls");
                ObjectNode fn = calls.addObject().put("type", "function").put("id", "c" + i).putObject("function");
                fn.put("name", r.nextBoolean() ? "f" : randomText(r));
                fn.set("arguments", r.nextBoolean() ? F.textNode("{\"a\": " + r.nextInt(9) + "}") : value(r, 2));
            } else if (key.equals("tools") && r.nextBoolean()) {
                ObjectNode fn = m.putArray("tools").addObject().put("type", "function").putObject("function");
                fn.put("name", "f").put("description", randomText(r));
                fn.set("parameters", r.nextBoolean() ? value(r, 2) : F.objectNode().put("type", "object"));
            } else {
                m.set(key, value(r, 1));
            }
        }
        return m;
    }

    @Provide
    Arbitrary<Long> seeds() {
        return Arbitraries.longs();
    }

    @Property
    void arbitraryMessagesEncodeOrFailClearly(@ForAll("seeds") long seed, @ForAll boolean thinking, @ForAll boolean dropThinking,
                                              @ForAll boolean speciale) {
        Random r = new Random(seed);
        List<JsonNode> context = new ArrayList<>();
        List<JsonNode> messages = new ArrayList<>();
        int nc = r.nextInt(3), nm = r.nextInt(6);
        for (int i = 0; i < nc; i++) context.add(message(r));
        for (int i = 0; i < nm; i++) messages.add(message(r));
        ChatEncoder enc = ChatEncoder.builder().thinkingMode(thinking ? ThinkingMode.THINKING : ThinkingMode.CHAT)
                .dropThinking(dropThinking).variant(speciale ? ModelVariant.SPECIALE : ModelVariant.STANDARD).build();
        encodeOrClearError(enc, context, messages);
    }

    static void encodeOrClearError(ChatEncoder enc, List<JsonNode> context, List<JsonNode> messages) {
        try {
            String prompt = enc.encodeJson(context, messages);
            assertNotNull(prompt);
            assertEquals(prompt, enc.encodeJson(context, messages), "deterministic");
        } catch (EncodingException e) {
            assertClear(e);
        } catch (IllegalArgumentException e) {
            assertClear(e);
        } catch (RuntimeException e) {
            fail("unclear exception for context " + context + " messages " + messages, e);
        }
    }

    private static void assertClear(RuntimeException e) {
        assertNotNull(e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }

    /** Arbitrary message JSON given as text (what a server receives): Jackson's tree, then the encoder. */
    @Property
    void arbitraryMessageTextEncodesOrFailsClearly(@ForAll("seeds") long seed) throws Exception {
        Random r = new Random(seed);
        List<JsonNode> messages = new ArrayList<>();
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) messages.add(JSON.readTree(JSON.writeValueAsString(message(r))));
        encodeOrClearError(ChatEncoder.defaults(), List.of(), messages);
    }

    /** The strict parser on arbitrary text: a message or a DsmlParseException with a message. */
    @Property
    void strictParserParsesOrFailsClearly(@ForAll("nastyText") String text, @ForAll boolean thinking) {
        ThinkingMode mode = thinking ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        try {
            Message m = StrictParser.parse(text, mode);
            assertNotNull(m.content());
        } catch (DsmlParseException e) {
            assertClear(e);
        } catch (RuntimeException e) {
            fail("unclear exception for " + JSON.valueToTree(text), e);
        }
    }

    /** The strict parser on fully random strings (no grammar bias). */
    @Property
    void strictAndLenientOnRandomStrings(@ForAll String text, @ForAll boolean thinking) {
        ThinkingMode mode = thinking ? ThinkingMode.THINKING : ThinkingMode.CHAT;
        try {
            StrictParser.parse(text, mode);
        } catch (DsmlParseException e) {
            assertClear(e);
        }
        assertNotNull(LenientParser.parse(text, mode).message());
    }

    @Provide
    Arbitrary<String> nastyText() {
        return new ParserProperties().nastyText();
    }

    /** Inputs kept from writing these targets (regressions). */
    @Example
    void regressionInputs() throws Exception {
        String[] cases = {
            "[{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":null}}]}]",
            "[{\"role\":\"tool\",\"content\":null}]",
            "[{\"role\":\"user\",\"content\":[1,{\"type\":\"text\"}]}]",
            "[{\"role\":\"system\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]}]",
            "[{\"role\":null}]", "[[]]", "[null]", "[{\"role\":\"developer\"}]",
        };
        for (String c : cases) {
            List<JsonNode> ms = new ArrayList<>();
            JSON.readTree(c).forEach(ms::add);
            for (ThinkingMode mode : ThinkingMode.values()) {
                encodeOrClearError(ChatEncoder.builder().thinkingMode(mode).build(), List.of(), ms);
            }
        }
    }
}
