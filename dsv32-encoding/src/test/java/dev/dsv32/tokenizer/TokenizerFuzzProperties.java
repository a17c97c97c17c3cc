package dev.dsv32.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzz target (RELIABILITY.md): the tokenizer on arbitrary strings, arbitrary bytes and arbitrary ids. Where the
 * round trip must hold (any well-formed UTF-16 string) it does; otherwise the answer is text or an
 * {@link IllegalArgumentException} naming the bad id, never another exception. Tries: {@code jqwik.tries.default}.
 */
class TokenizerFuzzProperties {
    private static final Tokenizer TOK = Tokenizer.v32();

    /** Text that stresses the pre-tokenizer and the added-token matcher: pieces of special tokens, digits, scripts. */
    @Provide
    Arbitrary<String> nastyText() {
        Arbitrary<String> fragment = Arbitraries.oneOf(
                Arbitraries.of("<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<\uFF5C",
                        "\uFF5C>", "<think>", "</think>", "<\uFF5CUser\uFF5C>", "<\uFF5CAssistant\uFF5C>", "\uFF5CDSML\uFF5C", "\u2581",
                        " ", "  ", "\t", "\n", "\r\n", "\n\n\n", "'s", "'LL", "123", "4567890", "\u0661\u0662", "\u00e9", "e\u0301",
                        "\uD83D\uDE00", "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67", "\u200B", "\uFEFF", "\u0000", "\u3000",
                        "\u4e2d\u6587", "\u0928\u092e\u0938\u094d\u0924\u0947", "\u00A0", "\u2028", "\uD800", "\uDFFF"),
                Arbitraries.strings().all().ofMaxLength(8),
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(12));
        return fragment.list().ofMaxSize(30).map(l -> String.join("", l));
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static String replaceLoneSurrogates(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString();
    }

    @Property
    void wellFormedTextRoundTripsAndCountsAgree(@ForAll("nastyText") String text) {
        int[] ids = TOK.encode(text);
        assertEquals(ids.length, TOK.count(text));
        for (int id : ids) assertTrue(id >= 0 && id < TOK.size(), "id " + id);
        String back = TOK.decode(ids);
        if (wellFormed(text)) {
            assertEquals(text, back);
        } else { // a lone surrogate has no UTF-8 form: it comes back as U+FFFD, the rest unchanged
            assertEquals(replaceLoneSurrogates(text), back);
        }
    }

    @Property
    void anyStringEncodesAndStreamsLikeWhole(@ForAll String text) {
        int[] ids = TOK.encode(text);
        StreamingDecoder d = TOK.newStreamingDecoder();
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        sb.append(d.finish());
        assertEquals(TOK.decode(ids), sb.toString());
        assertEquals(replaceLoneSurrogates(text), sb.toString());
    }

    /** Arbitrary bytes as text (Latin-1 and UTF-8 with replacement): the byte-level BPE covers every byte. */
    @Property
    void arbitraryBytesRoundTrip(@ForAll byte[] bytes) {
        for (String text : new String[] {new String(bytes, StandardCharsets.ISO_8859_1), new String(bytes, StandardCharsets.UTF_8)}) {
            assertEquals(text, TOK.decode(TOK.encode(text)));
        }
    }

    /** Arbitrary ids in the vocabulary: decode and the streaming decoder agree, special tokens skipped or not. */
    @Property
    void arbitraryIdsDecodeLikeTheStreamingDecoder(@ForAll("ids") int[] ids, @ForAll boolean skipSpecial) {
        String whole = TOK.decode(ids, skipSpecial);
        StreamingDecoder d = TOK.newStreamingDecoder(skipSpecial);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.push(id));
        sb.append(d.finish());
        assertEquals(whole, sb.toString());
    }

    @Provide
    Arbitrary<int[]> ids() {
        return Arbitraries.integers().between(0, TOK.size() - 1).filter(i -> TOK.token(i) != null)
                .array(int[].class).ofMaxSize(40);
    }

    /** Ids outside the vocabulary: an IllegalArgumentException naming the id and its position, from both decoders. */
    @Property
    void idsOutsideTheVocabularyAreNamed(@ForAll("ids") int[] ids, @ForAll("badIds") int bad) {
        int[] withBad = java.util.Arrays.copyOf(ids, ids.length + 1);
        withBad[ids.length] = bad;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TOK.decode(withBad));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains("token id " + bad + " at position " + ids.length), e.getMessage());
        StreamingDecoder d = TOK.newStreamingDecoder();
        for (int id : ids) d.push(id);
        assertThrows(IllegalArgumentException.class, () -> d.push(bad));
    }

    @Provide
    Arbitrary<Integer> badIds() {
        return Arbitraries.oneOf(Arbitraries.integers().lessOrEqual(-1),
                Arbitraries.integers().greaterOrEqual(TOK.size()), Arbitraries.of(Integer.MIN_VALUE, Integer.MAX_VALUE));
    }

    /** Found while writing the targets: kept as regression inputs (each once crashed nothing, each must keep working). */
    @Example
    void regressionInputs() {
        for (String s : new String[] {"", "\u0000", "\uD800", "a\uDFFFb", "<\uFF5C", "<\uFF5Cend\u2581of\u2581sentence\uFF5C><\uFF5C",
                " ".repeat(5000), "9".repeat(3000), "\uD83D\uDE00".repeat(500)}) {
            int[] ids = TOK.encode(s);
            assertArrayEquals(ids, TOK.encode(s));
            if (wellFormed(s)) assertEquals(s, TOK.decode(ids));
        }
    }
}
