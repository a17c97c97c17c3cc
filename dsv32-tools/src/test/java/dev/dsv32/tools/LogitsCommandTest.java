package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code dsv32 logits} in-process: the golden cases of dsv32-native against their f32 references, and input errors. */
class LogitsCommandTest {
    static final Path GOLDEN = Path.of("..", "dsv32-native", "src", "test", "resources", "golden");
    static final Path TINY = GOLDEN.resolve("tiny");

    @TempDir
    Path tmp;

    record Case(Path dir, int mp, String name, JsonNode tokens, Integer decodeFrom, int[] shape, Path f32) {
        @Override
        public String toString() {
            return dir.getFileName() + "/" + name;
        }
    }

    static Stream<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        for (String[] d : new String[][] {{"tiny", "1"}, {"tiny_mp2", "2"}}) {
            Path dir = GOLDEN.resolve(d[0]);
            for (JsonNode c : new ObjectMapper().readTree(dir.resolve("cases.json").toFile()).get("cases")) {
                int[] shape = new int[c.get("shape").size()];
                for (int i = 0; i < shape.length; i++) shape[i] = c.get("shape").get(i).intValue();
                JsonNode df = c.get("decode_from");
                out.add(new Case(dir, Integer.parseInt(d[1]), c.get("name").asText(), c.get("tokens"),
                        df.isNull() ? null : df.intValue(), shape, dir.resolve(c.get("files").get("f32").asText())));
            }
        }
        assertFalse(out.isEmpty());
        return out.stream();
    }

    Path write(String name, String content) throws IOException {
        return Files.writeString(tmp.resolve(name), content);
    }

    Dsv32CliTest.Result logits(Path model, Path ids, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("logits", "--model", model.toString(), "--ids-file", ids.toString(), "--out", out.toString()));
        args.addAll(Arrays.asList(extra));
        return run(args.toArray(new String[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void goldenCaseMatchesTheF32Reference(Case c) throws IOException {
        NpyFile ref = NpyFile.read(c.f32());
        int vocab = c.shape()[c.shape().length - 1];
        boolean batch = c.tokens().size() > 1;
        // batch 1 as a flat array ([T, vocab]); batches as arrays of arrays ([B, T, vocab])
        Path ids = write("ids.json", (batch ? c.tokens() : c.tokens().get(0)).toString());
        Path out = tmp.resolve("out.npy");
        List<String> extra = new ArrayList<>(List.of("--numerics", "f32", "--mp", String.valueOf(c.mp())));
        if (c.decodeFrom() != null) extra.addAll(List.of("--decode-from", String.valueOf(c.decodeFrom())));
        Dsv32CliTest.Result r = logits(c.dir(), ids, out, extra.toArray(new String[0]));
        assertEquals(0, r.status(), r.stderr());
        assertEquals("", r.out());
        NpyFile got = NpyFile.read(out);
        assertArrayEquals(c.shape(), got.shape());
        LogitsComparison cmp = LogitsComparison.of(ref.data(), got.data(), vocab);
        assertTrue(cmp.passes(), c + ": " + cmp);
    }

    /** {@code --mp 2} on tiny_mp2: the same .npy as {@code --mp 1} up to the order of f32 sums across the ranks. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("mp2Cases")
    void mp2GivesTheSameLogitsAsMp1(Case c) throws IOException {
        boolean batch = c.tokens().size() > 1;
        Path ids = write("ids.json", (batch ? c.tokens() : c.tokens().get(0)).toString());
        List<String> extra = new ArrayList<>(List.of("--numerics", "f32"));
        if (c.decodeFrom() != null) extra.addAll(List.of("--decode-from", String.valueOf(c.decodeFrom())));
        NpyFile[] got = new NpyFile[2];
        for (int mp = 1; mp <= 2; mp++) {
            Path out = tmp.resolve("mp" + mp + ".npy");
            List<String> args = new ArrayList<>(extra);
            args.addAll(List.of("--mp", String.valueOf(mp)));
            Dsv32CliTest.Result r = logits(c.dir(), ids, out, args.toArray(new String[0]));
            assertEquals(0, r.status(), r.stderr());
            assertEquals("", r.out());
            if (System.console() == null) assertEquals("", r.stderr(), "no progress bar without a terminal");
            got[mp - 1] = NpyFile.read(out);
        }
        assertArrayEquals(c.shape(), got[1].shape());
        float[] a = got[0].data(), b = got[1].data();
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(a[i]));
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        assertTrue(maxDiff <= 1e-5 * maxAbs, c + ": --mp 2 vs --mp 1: max |diff| " + maxDiff + " of max |logit| " + maxAbs);
    }

    static Stream<Case> mp2Cases() throws IOException {
        return cases().filter(c -> c.mp() == 2);
    }

    @Test
    void anMpThatCannotSplitTheModelExits2NamingTheTensor() throws IOException {
        Path ids = write("ids.json", "[1, 2, 3]");
        Path out = tmp.resolve("out.npy");
        Dsv32CliTest.Result r = logits(TINY, ids, out, "--mp", "2");
        assertError(r, "o_proj");
        assertTrue(r.stderr().contains("mp=2") && r.stderr().contains("per-rank K of 64"), r.stderr());
        assertEquals(1, r.stderr().lines().count(), r.stderr());
        r = logits(GOLDEN.resolve("tiny_mp2"), ids, out, "--mp", "3");
        assertError(r, "num_attention_heads");
        assertFalse(Files.exists(out));
    }

    @Test
    void chunkedPrefillAndSingleRowBatches() throws IOException {
        Case c = cases().filter(x -> x.toString().equals("tiny/prefill_300")).findFirst().orElseThrow();
        NpyFile ref = NpyFile.read(c.f32());
        Path out = tmp.resolve("chunked.npy");
        // [[...]] is a batch of one: [1, T, vocab]
        Dsv32CliTest.Result r = logits(c.dir(), write("ids.json", c.tokens().toString()), out,
                "--numerics", "f32", "--prefill-chunk", "64");
        assertEquals(0, r.status(), r.stderr());
        NpyFile got = NpyFile.read(out);
        assertArrayEquals(new int[] {1, 300, 512}, got.shape());
        LogitsComparison cmp = LogitsComparison.of(ref.data(), got.data(), 512);
        assertTrue(cmp.passes(), "chunks of 64: " + cmp);
    }

    @Test
    void defaultsRunTheModelsNumerics() throws IOException {
        Path out = tmp.resolve("d.npy");
        Dsv32CliTest.Result r = logits(TINY, write("ids.json", "[1, 2, 3, 4, 5]"), out, "--decode-from", "2", "--backend", "cpu");
        assertEquals(0, r.status(), r.stderr());
        assertArrayEquals(new int[] {5, 512}, NpyFile.read(out).shape());
    }

    @Test
    void autoBackendRunsWhereverItCan() throws IOException {
        Path out = tmp.resolve("auto.npy");
        Dsv32CliTest.Result r = logits(TINY, write("ids.json", "[1, 2, 3, 4, 5]"), out, "--backend", "auto");
        assertEquals(0, r.status(), r.stderr());
        assertArrayEquals(new int[] {5, 512}, NpyFile.read(out).shape());
    }

    @Test
    void inputErrorsExit2WithOneLineNamingTheFileOrField() throws IOException {
        Path ids = write("ids.json", "[1, 2, 3]");
        Path out = tmp.resolve("out.npy");
        assertError(logits(tmp.resolve("no-model"), ids, out), "no-model");
        assertError(logits(TINY, write("bad.json", "[1, 2,"), out), "bad.json");
        assertError(logits(TINY, write("str.json", "[1, \"x\"]"), out), "element 1");
        assertError(logits(TINY, write("obj.json", "{\"ids\": [1]}"), out), "obj.json");
        assertError(logits(TINY, write("empty.json", "[]"), out), "empty.json");
        assertError(logits(TINY, write("rows.json", "[[1, 2, 3], [4, 5]]"), out), "row 1");
        assertError(logits(TINY, write("mixed.json", "[[1, 2], 3]"), out), "element 1");
        assertError(logits(TINY, write("neg.json", "[1, -2]"), out), "element 1");
        assertError(logits(TINY, write("big.json", "[[1, 2], [3, 512]]"), out), "row 1, element 1");
        assertError(logits(TINY, ids, out, "--backend", "cuda"), "not available");  // this machine: no CUDA device
        assertError(logits(TINY, ids, out, "--backend", "hip"), "backend hip is not available");  // no AMD GPU here
        assertError(logits(TINY, ids, out, "--backend", "gpu"), "expected cpu, cuda, hip or auto");
        assertError(logits(TINY, ids, out, "--numerics", "bf16"), "bf16");
        assertError(logits(TINY, ids, out, "--decode-from", "4"), "--decode-from");
        assertError(logits(TINY, ids, out, "--prefill-chunk", "0"), "--prefill-chunk");
        assertError(logits(TINY, ids, out, "--mp", "0"), "--mp");
        assertError(run("logits", "--model", TINY.toString(), "--out", out.toString()), "--ids-file");
        assertFalse(Files.exists(out), "no output on errors");
    }

    @Test
    void aBadCheckpointExits2NamingTheFile() throws IOException {
        Path ids = write("ids.json", "[1, 2, 3]");
        Path out = tmp.resolve("out.npy");
        Path empty = Files.createDirectory(tmp.resolve("empty-model"));
        assertError(logits(empty, ids, out), "config.json");
        Path broken = Files.createDirectory(tmp.resolve("broken-model"));
        Files.copy(TINY.resolve("config.json"), broken.resolve("config.json"));
        byte[] st = Files.readAllBytes(TINY.resolve("model.safetensors"));
        Files.write(broken.resolve("model.safetensors"), Arrays.copyOf(st, st.length / 3));
        assertError(logits(broken, ids, out), "model.safetensors");
        assertFalse(Files.exists(out));
    }

    private static void assertError(Dsv32CliTest.Result r, String mention) {
        assertEquals(2, r.status(), r.stderr());
        assertTrue(r.stderr().contains(mention), r.stderr());
        String firstLine = r.stderr().lines().findFirst().orElse("");
        assertTrue(firstLine.startsWith("dsv32 logits: ") && firstLine.contains(mention) || r.stderr().contains("Try 'dsv32 logits --help'"), r.stderr());
    }
}
