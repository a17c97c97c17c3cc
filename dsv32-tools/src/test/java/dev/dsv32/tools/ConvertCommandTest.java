package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.nativ.synth.SyntheticCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dsv32 convert} in-process, and the other commands on its output. */
class ConvertCommandTest {
    static final Path TINY_MP2 = LogitsCommandTest.GOLDEN.resolve("tiny_mp2");

    @TempDir
    Path tmp;

    private Dsv32CliTest.Result logits(Path model, int mp, Path out) throws IOException {
        Path ids = Files.writeString(tmp.resolve("ids.json"), "[[5, 46, 121, 174, 506, 121], [429, 107, 322, 38, 351, 0]]");
        return run("logits", "--model", model.toString(), "--mp", String.valueOf(mp), "--ids-file", ids.toString(), "--decode-from", "3",
                "--numerics", "f32", "--out", out.toString());
    }

    @Test
    void convertsTinyMp2AndLogitsOnTheResultEqualTheHfCheckpoints() throws IOException {
        Path out = tmp.resolve("converted");
        Dsv32CliTest.Result r = run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", out.toString(), "--threads", "2");
        assertEquals(0, r.status(), r.stderr());
        String summary = new String(r.stdout(), StandardCharsets.UTF_8);
        assertTrue(summary.startsWith("converted ") && summary.contains("mp=2: 2 files, ") && summary.contains(" verified -> "), summary);
        if (System.console() == null) assertEquals("", r.stderr(), "no progress bar without a terminal");
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(Arrays.asList("config.json", "dsv32-convert.json", "model0-mp2.safetensors", "model1-mp2.safetensors"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        // logits --model CONVERTED --mp 2: the same .npy, bit for bit, as from the HF directory at --mp 2
        Path a = tmp.resolve("hf.npy"), b = tmp.resolve("conv.npy");
        assertEquals(0, logits(TINY_MP2, 2, a).status());
        Dsv32CliTest.Result c = logits(out, 2, b);
        assertEquals(0, c.status(), c.stderr());
        assertArrayEquals(NpyFile.read(a).shape(), NpyFile.read(b).shape());
        assertArrayEquals(NpyFile.read(a).data(), NpyFile.read(b).data());
        // at another mp: exit 2 naming the mp it was converted for
        c = logits(out, 1, tmp.resolve("x.npy"));
        assertEquals(2, c.status(), c.stderr());
        assertTrue(c.stderr().contains("converted for mp=2"), c.stderr());
        // again into the same directory: only with --force
        r = run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", out.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().startsWith("dsv32 convert: ") && r.stderr().contains("not empty") && r.stderr().contains("--force"), r.stderr());
        assertEquals(0, run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", out.toString(), "--force").status());
    }

    @Test
    void generateOnAConvertedTinyChatMatchesTheOriginal() throws IOException {
        Path src = SyntheticCheckpoint.defaultModel();
        Path out = tmp.resolve("tiny_chat_mp1");
        Dsv32CliTest.Result r = run("convert", "--model", src.toString(), "--mp", "1", "--out", out.toString());
        assertEquals(0, r.status(), r.stderr());
        String[] gen = {"generate", "--prompt", "Hello", "--max-tokens", "6", "--temperature", "0", "--json", "--mp", "1", "--model"};
        Dsv32CliTest.Result x = run(concat(gen, src.toString())), y = run(concat(gen, out.toString()));
        assertEquals(0, x.status(), x.stderr());
        assertEquals(0, y.status(), y.stderr());
        // the same completion (greedy); the timings in usage differ
        JsonNode a = new ObjectMapper().readTree(x.stdout()), b = new ObjectMapper().readTree(y.stdout());
        for (String f : new String[] {"content", "reasoning_content", "tool_calls", "finish_reason", "text"}) assertEquals(a.get(f), b.get(f), f);
        assertEquals(a.get("usage").get("completion_tokens"), b.get("usage").get("completion_tokens"));
        assertFalse(a.get("content").asText().isEmpty());
        // chat --mp 2 on it: exit 2 naming the mp
        Dsv32CliTest.Result z = run("chat", "--model", out.toString(), "--mp", "2", "--prompt", "Hi", "--max-tokens", "2");
        assertEquals(2, z.status(), z.stderr());
        assertTrue(z.stderr().contains("mp=1"), z.stderr());
    }

    @Test
    void badInputExits2WithAClearMessage() throws IOException {
        Path out = tmp.resolve("o");
        assertError(run("convert", "--model", tmp.resolve("missing").toString(), "--mp", "2", "--out", out.toString()), "missing");
        assertError(run("convert", "--model", tmp.toString(), "--mp", "2", "--out", out.toString()), "config.json");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--mp", "3", "--out", out.toString()), "num_attention_heads");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--mp", "0", "--out", out.toString()), "--mp 0");
        assertError(run("convert", "--model", LogitsCommandTest.TINY.toString(), "--mp", "2", "--out", out.toString()), "o_proj");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", TINY_MP2.toString()), "--out");
        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("notes.txt"), "keep");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", full.toString()), "not empty");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--out", out.toString()), "--mp");
        assertError(run("convert", "--model", TINY_MP2.toString(), "--mp", "2", "--out", out.toString(), "--threads", "-1"), "--threads");
        assertFalse(Files.exists(out.resolve("model0-mp2.safetensors")));
        assertFalse(Files.exists(out.resolve("dsv32-convert.json")));
    }

    private static String[] concat(String[] a, String b) {
        String[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = b;
        return r;
    }

    private static void assertError(Dsv32CliTest.Result r, String mention) {
        assertEquals(2, r.status(), r.stderr());
        assertTrue(r.stderr().contains(mention), r.stderr());
        assertTrue(r.stderr().startsWith("dsv32 convert: "), r.stderr());
    }
}
