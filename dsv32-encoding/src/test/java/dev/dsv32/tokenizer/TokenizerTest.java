package dev.dsv32.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    private static final Tokenizer TOK = Tokenizer.v32();

    @Test
    void roundTripsValidStrings() {
        Random r = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            String s = DjlDifferentialTest.randomText(r);
            assertEquals(s, TOK.decode(TOK.encode(s)));
        }
    }

    @Test
    void addedTokensAreWholeIdsInsideText() {
        int[] ids = TOK.encode("text<｜User｜>x");
        assertEquals(128803, ids[ids.length - 2]);
        assertArrayEquals(new int[] {128796, 83, 128797}, TOK.encode("<｜search▁begin｜>q<｜search▁end｜>"));
        assertEquals(0, TOK.encode("").length);
    }

    @Test
    void dsmlIsPlainText() {
        assertArrayEquals(new int[] {30, 28217, 10525, 7398, 28217, 8701, 4941, 12548, 32}, TOK.encode("<｜DSML｜function_calls>"));
    }

    @Test
    void digitsGroupInThrees() {
        assertArrayEquals(new int[] {6895, 18009, 25744, 18}, TOK.encode("1234567890"));
    }

    @Test
    void skipSpecialTokensDropsBosEosButKeepsRoleMarkers() {
        int[] ids = TOK.encode("<｜begin▁of▁sentence｜><｜User｜>hi<｜end▁of▁sentence｜>");
        assertEquals("<｜User｜>hi", TOK.decode(ids, true));
        assertTrue(TOK.isSpecial(Tokenizer.BOS_ID));
        assertFalse(TOK.isSpecial(128803));
        assertEquals("<｜User｜>", TOK.token(128803));
        assertEquals(128798, TOK.id("<think>").getAsInt());
        assertEquals(128815, TOK.size());
    }

    @Test
    void streamingDecoderNeverSplitsACharacter() {
        Random r = new Random(5);
        for (int i = 0; i < 5_000; i++) {
            String s = DjlDifferentialTest.randomText(r);
            int[] ids = TOK.encode(s);
            StreamingDecoder d = TOK.newStreamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                String piece = d.push(id);
                assertFalse(piece.indexOf('\uFFFD') >= 0 && s.indexOf('\uFFFD') < 0, () -> "U+FFFD mid-stream for " + s);
                if (!piece.isEmpty()) assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)));
                out.append(piece);
            }
            out.append(d.finish());
            assertEquals(s, out.toString());
        }
    }

    @Test
    void streamingDecoderHoldsAMultiByteCharacterSpreadOverTokens() {
        // An emoji and a CJK character whose bytes are separate byte-level tokens.
        byte[] bytes = "\uD83D\uDE00的".getBytes(StandardCharsets.UTF_8);
        StreamingDecoder d = TOK.newStreamingDecoder();
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < bytes.length; k++) {
            int id = TOK.id(String.valueOf(ByteLevel.BYTE_TO_CHAR[bytes[k] & 0xFF])).getAsInt();
            String piece = d.push(id);
            if (k == 3) assertEquals("\uD83D\uDE00", piece);
            else if (k == 6) assertEquals("的", piece);
            else assertEquals("", piece);
            out.append(piece);
        }
        assertEquals(0, d.pendingBytes());
        assertEquals("\uD83D\uDE00的", out.toString());
    }

    @Test
    void streamingDecoderMatchesDecodeOnInvalidSequences() {
        Random r = new Random(9);
        for (int i = 0; i < 20_000; i++) {
            int[] ids = new int[1 + r.nextInt(6)];
            for (int k = 0; k < ids.length; k++) ids[k] = r.nextInt(3) == 0 ? r.nextInt(256) : r.nextInt(TOK.size());
            StreamingDecoder d = TOK.newStreamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : ids) out.append(d.push(id));
            out.append(d.finish());
            assertEquals(TOK.decode(ids), out.toString(), java.util.Arrays.toString(ids));
        }
    }

    @Test
    void badIdsAreReportedWithTheirPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TOK.decode(new int[] {5, 999_999}));
        assertTrue(e.getMessage().contains("999999") && e.getMessage().contains("position 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TOK.newStreamingDecoder().push(-1));
    }

    @Test
    void encodeIsThreadSafe() throws Exception {
        Random r = new Random(1);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) texts.add(DjlDifferentialTest.randomText(r));
        List<int[]> expected = new ArrayList<>();
        for (String t : texts) expected.add(TOK.encode(t));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    for (int k = 0; k < texts.size(); k++) {
                        int i = (k * 7 + offset * 13) % texts.size();
                        if (!java.util.Arrays.equals(expected.get(i), TOK.encode(texts.get(i)))) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badTokenizerFilesNameTheProblem(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\": {\"type\": \"Unigram\"}}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(f));
        assertTrue(e.getMessage().contains("model.type"), e.getMessage());
        Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]},"
                + " \"pre_tokenizer\": {\"type\": \"Whitespace\"}}");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.load(f));
        assertTrue(e.getMessage().contains("pre_tokenizer"), e.getMessage());
        Files.writeString(f, "{\"model\": ");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.load(f));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        assertThrows(TokenizerException.class, () -> Tokenizer.load(dir.resolve("missing.json")));
    }
}
