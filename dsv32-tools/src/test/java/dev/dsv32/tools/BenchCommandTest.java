package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dsv32.nativ.synth.SynthConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dsv32 make-tiny} and {@code dsv32 bench --quick} in-process, on generated tiny checkpoints. */
class BenchCommandTest {
    @TempDir
    Path tmp;

    @Test
    void makeTinyWritesADeterministicCheckpoint() throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        Dsv32CliTest.Result r = run("make-tiny", "--config", "tiny", "--seed", "3", "--out", a.toString());
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.out().startsWith("tiny seed=3: "), r.out());
        assertEquals(0, run("make-tiny", "--seed", "3", "--threads", "1", "--out", b.toString()).status());
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
        assertEquals(Files.readString(Path.of("..", "dsv32-native", "src", "test", "resources", "golden", "tiny", "config.json")).strip(),
                Files.readString(a.resolve("config.json")).strip());
        try (var s = Files.list(tmp)) {
            assertEquals(2, s.count()); // no temporary directories left behind
        }
    }

    @Test
    void makeTinyRejectsBadInput() throws IOException {
        Dsv32CliTest.Result r = run("make-tiny", "--config", "huge", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("unknown synthetic config 'huge'"), r.stderr());
        Files.createDirectories(tmp.resolve("full"));
        Files.writeString(tmp.resolve("full/f"), "x");
        r = run("make-tiny", "--out", tmp.resolve("full").toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("not empty"), r.stderr());
    }

    @Test
    void quickBenchOnGeneratedTinyPrintsPositiveNumbers() {
        Path model = tmp.resolve("tiny");
        assertEquals(0, run("make-tiny", "--config", "tiny", "--seed", "1", "--out", model.toString()).status());
        Dsv32CliTest.Result r = run("bench", "--model", model.toString(), "--quick", "--threads", "2");
        assertEquals(0, r.status(), r.stderr());
        String out = r.out();
        assertTrue(out.contains("| phase | batch | tokens / context | tok/s |"), out);
        assertTrue(out.contains("memory bandwidth: "), out);
        assertTrue(out.contains("peak RSS (VmHWM)"), out);
        List<String[]> prefill = new ArrayList<>(), decode = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] c = line.split("\\|");
            if (line.startsWith("| prefill")) prefill.add(c);
            if (line.startsWith("| decode")) decode.add(c);
        }
        assertEquals(2, prefill.size(), out);  // 64 and 256 tokens
        assertEquals(2, decode.size(), out);   // batch 1 and 4 at context 128
        for (String[] c : prefill) assertTrue(Double.parseDouble(c[4].strip()) > 0, out);
        for (String[] c : decode) {
            for (int i = 4; i <= 7; i++) assertTrue(Double.parseDouble(c[i].strip()) > 0, out);
            assertTrue(Double.parseDouble(c[8].strip().replace("%", "")) > 0, out);
        }
        double bw = Double.parseDouble(out.replaceAll("(?s).*memory bandwidth: ([0-9.]+) GB/s.*", "$1"));
        assertTrue(bw > 0.1, out);
    }

    @Test
    void benchRunsModelParallel() {
        Path model = tmp.resolve("tiny_mp2");
        assertEquals(0, run("make-tiny", "--config", "tiny_mp2", "--seed", "2", "--out", model.toString()).status());
        Dsv32CliTest.Result r = run("bench", "--model", model.toString(), "--mp", "2", "--threads", "2", "--prefill", "16",
                "--contexts", "24", "--batches", "1", "--steps", "2");
        assertEquals(0, r.status(), r.stderr());
        assertTrue(r.out().contains("2 threads in 2 model-parallel ranks"), r.out());
        if (System.console() == null) assertEquals("", r.stderr(), "no progress bar without a terminal");
        // tiny cannot be split in FP8 for 2 ranks: a clean input error naming the tensor
        Path tiny = tmp.resolve("tiny");
        assertEquals(0, run("make-tiny", "--config", "tiny", "--seed", "1", "--out", tiny.toString()).status());
        r = run("bench", "--model", tiny.toString(), "--quick", "--mp", "2");
        assertEquals(2, r.status(), r.stderr());
        assertTrue(r.stderr().startsWith("dsv32 bench: ") && r.stderr().contains("o_proj"), r.stderr());
    }

    @Test
    void benchRejectsBadOptions() {
        assertEquals(2, run("bench", "--model", tmp.resolve("none").toString(), "--quick").status());
        assertEquals(2, run("bench", "--quick", "--threads", "-1").status());
        assertEquals(2, run("bench", "--quick", "--mp", "0").status());
        assertEquals(2, run("bench", "--model", tmp.toString(), "--config", "tiny").status());
    }

    @Test
    void miniRooflineIsArchitectureMdNumbers() throws IOException {
        DecodeRoofline r = new DecodeRoofline(Json.MAPPER.readTree(SynthConfig.MINI.configJson()));
        // architecture.md §17: "≈402 MB read/token (FP8 weights + scales, bf16 head)" at batch 1
        assertEquals(402e6, r.stepBytes(1, 0), 4e6);
        assertEquals(129280L * 1024 * 2, r.headBytes); // bf16 lm_head
        assertEquals(8.0, r.expertsTouched(1), 1e-9);
        assertTrue(r.expertsTouched(4) > 8 && r.expertsTouched(4) < 32);
        // KV per token and layer at context 4096: 4096 indexer keys (132 B) + 512 selected latents (1152 B)
        assertEquals(8L * (4096 * 132 + 512 * 1152), r.kvBytes(4096));
    }
}
