package dev.dsv32.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential test against the Hugging Face Rust tokenizer (DJL 0.38.0, Rust tokenizers 0.21.0, test scope only) on
 * randomized strings of code points from all planes (including letters of Unicode 15, 16 and 17), whitespace mixes,
 * digits, CJK, emoji ZWJ sequences and special-token strings. Any difference fails, printed with the string's code points.
 */
class DjlDifferentialTest {
    private static final Tokenizer TOK = Tokenizer.v32();
    private static HuggingFaceTokenizer reference;
    private static Path dir;

    @BeforeAll
    static void loadReference() throws IOException {
        dir = Files.createTempDirectory("dsv32-djl");
        System.setProperty("DJL_CACHE_DIR", dir.resolve("cache").toString());
        Path json = dir.resolve("tokenizer.json");
        try (InputStream in = Tokenizer.class.getResourceAsStream("tokenizer.json")) {
            Files.copy(in, json, StandardCopyOption.REPLACE_EXISTING);
        }
        reference = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false", "truncation", "false",
                "padding", "false", "modelMaxLength", "100000000"));
    }

    @AfterAll
    static void close() {
        if (reference != null) reference.close();
    }

    private static int[] referenceIds(String text) {
        Encoding e = reference.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    private static String codePoints(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().forEach(c -> sb.append(String.format("U+%04X ", c)));
        return sb.toString();
    }

    private static final String[] SPECIALS = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>",
        "<think>", "</think>", "<｜DSML｜invoke name=\"f\">", "<|EOT|>", "<｜tool▁sep｜>", "<｜place▁holder▁no▁5｜>", "<｜", "｜>"};
    private static final int[] SPACES = {' ', '\t', '\n', '\r', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2000, 0x2009, 0x200A, 0x200B,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF, 0x180E, 0x1C, 0x1F};

    /** A random piece of text; mixes chosen to hit every branch of the pre-tokenizer. */
    static String randomText(Random r) {
        StringBuilder sb = new StringBuilder();
        int parts = 1 + r.nextInt(12);
        for (int p = 0; p < parts; p++) {
            switch (r.nextInt(11)) {
                case 0: // any code point of any plane (assigned or not, whatever this JDK's Unicode version), no surrogates
                    for (int k = r.nextInt(6); k >= 0; k--) {
                        int cp;
                        do {
                            cp = r.nextInt(4) == 0 ? r.nextInt(0x110000) : r.nextInt(0x3000);
                        } while (cp >= 0xD800 && cp <= 0xDFFF);
                        sb.appendCodePoint(cp);
                    }
                    break;
                case 1:
                    for (int k = r.nextInt(5); k >= 0; k--) sb.appendCodePoint(SPACES[r.nextInt(SPACES.length)]);
                    break;
                case 2:
                    for (int k = r.nextInt(9); k >= 0; k--) sb.append((char) ('0' + r.nextInt(10)));
                    break;
                case 3:
                    for (int k = r.nextInt(6); k >= 0; k--) sb.append((char) (0x4E00 + r.nextInt(0x51A6 + 40)));
                    break;
                case 4:
                    for (int k = r.nextInt(6); k >= 0; k--) sb.append((char) (0x3040 + r.nextInt(0xC0)));
                    break;
                case 5:
                    sb.append(r.nextBoolean() ? "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67" : "\uD83D\uDC4D\uD83C\uDFFD")
                            .append(r.nextBoolean() ? "\uFE0F" : "");
                    break;
                case 6:
                    sb.append(SPECIALS[r.nextInt(SPECIALS.length)]);
                    break;
                case 7: // ASCII words, punctuation, contractions
                    String[] w = {"Hello", " world", "'s", "n't", " (x)", "...", "\"quote\"", "a.b", "::", " --", "=?", "#define",
                        " __init__", "\t\tif", "\r\n", " \n\n ", "  ", "½", "²", "Ⅻ", "٣٤٥", "१२"};
                    sb.append(w[r.nextInt(w.length)]);
                    break;
                case 8: // Latin with combining marks, Cyrillic, Greek, Korean, Thai, Arabic
                    String[] m = {"e\u0301", "\u0301a", "Привет", "αβγ", "한국어", "ภาษาไทย", "مرحبا", "Ωmega", "ﬁ", "ǅ",
                        // letters first assigned in Unicode 15 and 16 (letters for the reference), and in 17 (not yet)
                        "\uD838\uDCD0", "\uD884\uDF50", "\u1C89", "\uD80E\uDE48", "\uD807\uDF00", "\uA7CB",
                        "\uD802\uDD40", "\uD888\uDFB0"};
                    sb.append(m[r.nextInt(m.length)]);
                    break;
                case 9: // control characters
                    sb.append((char) r.nextInt(0x20));
                    break;
                default:
                    for (int k = r.nextInt(5); k >= 0; k--) sb.append((char) (0x20 + r.nextInt(0x5F)));
            }
        }
        return sb.toString();
    }

    @Test
    void randomStringsEncodeLikeTheReference() {
        Random r = new Random(20261128);
        for (int i = 0; i < 30_000; i++) {
            String s = randomText(r);
            int[] expected = referenceIds(s);
            assertArrayEquals(expected, TOK.encode(s), () -> "differs on: " + codePoints(s));
        }
    }

    @Test
    void longMixedTextEncodesLikeTheReference() {
        Random r = new Random(7);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 200_000) sb.append(randomText(r));
        String s = sb.toString();
        assertArrayEquals(referenceIds(s), TOK.encode(s));
    }

    @Test
    void longRunsUseTheSameMergeOrder() {
        // Pieces above 256 bytes take the heap-based merge path.
        for (String unit : new String[] {"a", "ab", "的", "ア", " ", "\n", "é", "\uD83D\uDE00", "xyz"}) {
            String s = unit.repeat(700);
            assertArrayEquals(referenceIds(s), TOK.encode(s), unit);
        }
    }

    @Test
    void decodeOfArbitraryIdsMatchesTheReference() {
        Random r = new Random(11);
        for (int i = 0; i < 3_000; i++) {
            long[] ids = new long[1 + r.nextInt(8)];
            int[] ints = new int[ids.length];
            for (int k = 0; k < ids.length; k++) {
                ints[k] = r.nextInt(4) == 0 ? 128_000 + r.nextInt(815) : r.nextInt(128_000);
                ids[k] = ints[k];
            }
            assertEquals(reference.decode(ids, false), TOK.decode(ints), () -> java.util.Arrays.toString(ints));
        }
    }
}
