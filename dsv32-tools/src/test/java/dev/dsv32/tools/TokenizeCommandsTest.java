package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dsv32 tokenize} and {@code dsv32 detokenize}. */
class TokenizeCommandsTest {
    @TempDir
    Path tmp;

    private static final String SEED = "<｜begin▁of▁sentence｜><｜User｜>hello<｜Assistant｜></think>Hello! I am DeepSeek."
            + "<｜end▁of▁sentence｜><｜User｜>1+1=?<｜Assistant｜><think>";

    Path write(String name, String content) throws IOException {
        return Files.write(tmp.resolve(name), content.getBytes(UTF_8));
    }

    @Test
    void tokenizePrintsTheModelCardIds() throws IOException {
        Dsv32CliTest.Result r = run("tokenize", "--text-file", write("seed.txt", SEED).toString());
        assertEquals(0, r.status(), r.stderr());
        JsonNode ids = r.json();
        int[] actual = new int[ids.size()];
        for (int i = 0; i < actual.length; i++) actual[i] = ids.get(i).intValue();
        assertArrayEquals(new int[] {0, 128803, 33310, 128804, 128799, 19923, 3, 342, 1030, 22651, 4374, 1465, 16, 1, 128803,
                19, 13, 19, 127252, 128804, 128798}, actual);
        assertEquals("21\n", run("tokenize", "--count", "--text-file", tmp.resolve("seed.txt").toString()).out());
    }

    @Test
    void detokenizeRoundTripsExactlyWithoutTrailingNewline() throws IOException {
        String text = "Grüße, 世界! 🙂\r\n\ttabs  and\u00a0nbsp <think>x</think>";
        Dsv32CliTest.Result ids = run("tokenize", "--text-file", write("t.txt", text).toString());
        Dsv32CliTest.Result back = run("detokenize", "--ids-file", write("ids.json", ids.out()).toString());
        assertEquals(0, back.status(), back.stderr());
        assertArrayEquals(text.getBytes(UTF_8), back.stdout());
    }

    @Test
    void detokenizeCanSkipSpecialTokens() throws IOException {
        int[] ids = Tokenizer.v32().encode(SEED);
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < ids.length; i++) json.append(i == 0 ? "" : ",").append(ids[i]);
        Dsv32CliTest.Result r = run("detokenize", "--skip-special-tokens", "--ids-file", write("ids.json", json + "]").toString());
        assertTrue(r.out().startsWith("<｜User｜>hello"), r.out());
    }

    @Test
    void badIdsAreInputErrorsNamingTheElement() throws IOException {
        Dsv32CliTest.Result r = run("detokenize", "--ids-file", write("bad.json", "[1, 2, \"x\"]").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("element 2"), r.stderr());
        r = run("detokenize", "--ids-file", write("range.json", "[1, 999999]").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("999999") && r.stderr().contains("position 1"), r.stderr());
        r = run("detokenize", "--ids-file", write("obj.json", "{\"ids\": [1]}").toString());
        assertEquals(2, r.status());
        r = run("tokenize", "--text-file", tmp.resolve("missing.txt").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("missing.txt"), r.stderr());
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), new byte[] {'a', (byte) 0xE9, 'b'});
        r = run("tokenize", "--text-file", latin1.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("byte offset 1"), r.stderr());
    }
}
