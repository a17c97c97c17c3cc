package dev.dsv32.tools;

import static dev.dsv32.tools.Dsv32CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.nativ.synth.SynthConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
        for (String[] c : prefill) {
            assertTrue(Double.parseDouble(c[4].strip()) > 0, out);
            assertTrue(Double.parseDouble(c[9].strip()) > 0, out); // GFLOP/s
        }
        double b1Tps = Double.NaN;
        for (String[] c : decode) {
            // the batch scaling: "-" at batch 1, tok/s over batch 1's at the same context (printed first) otherwise
            if (c[2].strip().equals("1")) {
                assertEquals("-", c[10].strip(), out);
                b1Tps = Double.parseDouble(c[4].strip());
            } else {
                assertTrue(c[10].strip().matches("[0-9]+\\.[0-9]{2}x"), out);
                double x = Double.parseDouble(c[10].strip().replace("x", ""));
                assertEquals(Double.parseDouble(c[4].strip()) / b1Tps, x, 0.006 + 1e-3 * x, out); // from the 2-decimal tok/s
            }
            for (int i = 4; i <= 7; i++) assertTrue(Double.parseDouble(c[i].strip()) > 0, out);
            assertTrue(Double.parseDouble(c[9].strip()) > 0, out); // GFLOP/s
            // tok/s and roofline tok/s are positive above; the percentage has one decimal, so on a loaded machine (a
            // tiny model's roofline is huge) it may print as 0.0%: only its form and range are checked here.
            double pct = Double.parseDouble(c[8].strip().replace("%", ""));
            assertTrue(pct >= 0, out);  // no upper bound: tiny fits in cache, which can beat the DRAM roofline
        }
        double bw = Double.parseDouble(out.replaceAll("(?s).*memory bandwidth: ([0-9.]+) GB/s.*", "$1"));
        assertTrue(bw > 0.1, out);
    }

    @Test
    void csvAndJsonHaveTheTableRows() throws IOException {
        Path model = tmp.resolve("tiny");
        assertEquals(0, run("make-tiny", "--config", "tiny", "--seed", "1", "--out", model.toString()).status());
        Path csv = tmp.resolve("out.csv"), json = tmp.resolve("out.json");
        Locale before = Locale.getDefault();
        Dsv32CliTest.Result r;
        try {
            Locale.setDefault(Locale.GERMANY); // decimal comma: the files must not follow it
            r = run("bench", "--model", model.toString(), "--quick", "--threads", "2", "--csv", csv.toString(), "--json", json.toString());
        } finally {
            Locale.setDefault(before);
        }
        assertEquals(0, r.status(), r.stderr());
        List<String[]> table = new ArrayList<>();
        for (String line : r.out().split("\n")) {
            if (line.startsWith("| prefill") || line.startsWith("| decode")) {
                String[] c = line.split("\\|");
                table.add(Arrays.stream(c).skip(1).map(String::strip).toArray(String[]::new));
            }
        }
        assertEquals(4, table.size(), r.out());

        List<String> lines = Files.readAllLines(csv);
        assertEquals(BenchCommand.CSV_HEADER, lines.get(0));
        assertEquals(table.size() + 1, lines.size(), String.join("\n", lines));
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        JsonNode rows = root.get("rows");
        DecodeRoofline roof = new DecodeRoofline(Json.MAPPER.readTree(model.resolve("config.json").toFile()));
        assertEquals(table.size(), rows.size(), root.toPrettyString());
        for (int i = 0; i < table.size(); i++) {
            String[] t = table.get(i);
            String[] c = lines.get(i + 1).split(",", -1);
            assertEquals(10, c.length, lines.get(i + 1));
            JsonNode j = rows.get(i);
            assertEquals(t[0], c[0]);
            assertEquals(t[0], j.get("phase").asText());
            assertEquals(t[1], c[1]);
            assertEquals(Integer.parseInt(t[1]), j.get("batch").asInt());
            assertEquals(t[2], c[2]);
            assertEquals(Integer.parseInt(t[2]), j.get("tokens_or_context").asInt());
            for (String v : c) assertTrue(v.matches("[a-z]+|-?[0-9]+(\\.[0-9]+)?|"), "plain decimal: " + v);
            boolean decode = t[0].equals("decode");
            assertEquals(t[3], fmt(decode ? "%.2f" : "%.1f", c[3]));
            assertEquals(t[3], fmt(decode ? "%.2f" : "%.1f", j.get("tok_s").asText()));
            assertEquals(t[4], fmt("%.1f", c[4]));
            assertEquals(t[4], fmt("%.1f", j.get("ms_per_step").asText()));
            // GFLOP/s: the row's FLOPs (DecodeRoofline of the model's config) over its time, in all three outputs
            assertEquals(t[8], fmt("%.1f", c[8]));
            assertEquals(t[8], fmt("%.1f", j.get("gflop_s").asText()));
            int len = j.get("tokens_or_context").asInt();
            double flops = decode ? roof.decodeFlops(j.get("batch").asInt(), len) : roof.prefillFlops(len);
            double secs = j.get("ms_per_step").asDouble() / 1000;
            assertEquals(flops / secs / 1e9, j.get("gflop_s").asDouble(), 1e-9 * flops / secs / 1e9);
            // the batch scaling: a batch-B decode row's tok/s over the batch-1 row's at its context, in all three outputs
            JsonNode x = j.get("x_batch1");
            if (decode && j.get("batch").asInt() > 1) {
                double b1 = Double.NaN;
                for (JsonNode o : rows)
                    if (o.get("phase").asText().equals("decode") && o.get("batch").asInt() == 1 && o.get("tokens_or_context").asInt() == len)
                        b1 = o.get("tok_s").asDouble();
                assertEquals(j.get("tok_s").asDouble() / b1, x.asDouble(), 1e-12 * x.asDouble());
                assertEquals(x.asDouble(), Double.parseDouble(c[9]), 0);
                assertEquals(t[9], String.format(Locale.ROOT, "%.2fx", x.asDouble()));
            } else {
                assertTrue(x.isNull(), root.toPrettyString());
                assertEquals("", c[9]);
                assertEquals("-", t[9]);
            }
            if (decode) {
                assertEquals(t[5], fmt("%.1f", c[5]));
                assertEquals(t[5], fmt("%.1f", j.get("mb_read_per_step").asText()));
                assertEquals(t[6], fmt("%.1f", c[6]));
                assertEquals(t[6], fmt("%.1f", j.get("roofline_tok_s").asText()));
                assertEquals(t[7], String.format(Locale.ROOT, "%.1f%%", 100 * Double.parseDouble(c[7])));
                assertEquals(t[7], String.format(Locale.ROOT, "%.1f%%", 100 * j.get("fraction_of_roofline").asDouble()));
            } else {
                for (int k = 5; k <= 7; k++) assertEquals("-", t[k]);
                assertEquals("", c[5] + c[6] + c[7]);
                assertTrue(j.get("mb_read_per_step").isNull() && j.get("roofline_tok_s").isNull() && j.get("fraction_of_roofline").isNull());
            }
        }
        JsonNode meta = root.get("meta");
        assertEquals("tiny", meta.get("model").asText());
        assertEquals(2, meta.get("threads").asInt());
        assertTrue(meta.get("numerics").isTextual());
        assertTrue(meta.get("machine").get("cores").asInt() >= 1 && meta.get("machine").has("cpu"));
        double bw = Double.parseDouble(r.out().replaceAll("(?s).*memory bandwidth: ([0-9.]+) GB/s.*", "$1"));
        assertEquals(String.format(Locale.ROOT, "%.1f", bw), String.format(Locale.ROOT, "%.1f", meta.get("bandwidth_gb_s").asDouble()));
        if (Files.exists(Path.of("/proc/self/status"))) assertTrue(meta.get("peak_rss_bytes").asLong() > 1 << 20);
        assertTrue(meta.get("date").asText().matches("\\d{4}-\\d{2}-\\d{2}"));
        if (System.console() == null) assertEquals("", r.stderr(), "no progress bar without a terminal");

        // only one of them: fine too
        Path csvOnly = tmp.resolve("only.csv");
        assertEquals(0, run("bench", "--model", model.toString(), "--prefill", "8", "--contexts", "16", "--batches", "1",
                "--steps", "1", "--threads", "1", "--csv", csvOnly.toString()).status());
        assertEquals(2, Files.readAllLines(csvOnly).size() - 1);
    }

    @Test
    void benchOutputFileInAMissingDirectoryIsAnInputError() {
        for (String opt : List.of("--csv", "--json")) {
            String bad = tmp.resolve("no").resolve("such").resolve("out." + opt.substring(2)).toString();
            Dsv32CliTest.Result r = run("bench", "--model", tmp.resolve("unused").toString(), "--quick", opt, bad);
            assertEquals(2, r.status(), r.stderr());
            assertTrue(r.stderr().startsWith("dsv32 bench: " + opt + " " + bad + ": no such directory"), r.stderr());
            assertFalse(Files.exists(Path.of(bad)));
        }
        Dsv32CliTest.Result r = run("bench", "--quick", "--json", tmp.toString());
        assertEquals(2, r.status());
        assertTrue(r.stderr().contains("is a directory"), r.stderr());
    }

    private static String fmt(String format, String number) {
        return String.format(Locale.ROOT, format, Double.parseDouble(number));
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
        // architecture.md §17: "≈402 MB read/token (FP8 weights + scales, bf16 head)" at batch 1, a scored token
        assertEquals(402e6, r.weightBytes(1, 512), 4e6);
        assertEquals(402e6, r.stepBytes(1, 512) - r.kvBytes(512), 4e6);
        // within top-k keys no index query: 8 layers of wq_b (64 x 128 x 384 FP8 + 64 x 3 block scales) and weights_proj (bf16)
        assertEquals(8L * (64 * 128 * 384 + 64 * 3 * 4 + 64 * 1024 * 2), r.weightBytes(1, 512) - r.weightBytes(1, 511), 1e-3);
        assertEquals(r.weightBytes(1, 0), r.stepBytes(1, 0), 1e-3);
        assertTrue(r.scored(512) && !r.scored(511), "a token at context 511 has 512 keys: top-k, not scored");
        assertEquals(129280L * 1024 * 2, r.headBytes); // bf16 lm_head
        assertEquals(8.0, r.expertsTouched(1), 1e-9);
        assertTrue(r.expertsTouched(4) > 8 && r.expertsTouched(4) < 32);
        // KV per token and layer at context 4096: 4096 indexer keys (132 B) + 512 selected latents (1152 B); at 256 the
        // latents only (not scored)
        assertEquals(8L * (4096 * 132 + 512 * 1152), r.kvBytes(4096));
        assertEquals(8L * 256 * 1152, r.kvBytes(256));
    }

    @Test
    void denseStepBytesAndPrefillFlopsOnMini() throws IOException {
        DecodeRoofline r = new DecodeRoofline(Json.MAPPER.readTree(SynthConfig.MINI.configJson()));
        // dense attention reads every latent, no indexer key and no index query: below top-k (512) the same as DSA
        assertEquals(r.stepBytes(1, 256), r.stepBytesDense(1, 256), 1e-3);
        assertEquals(r.stepBytes(1, 4096) - 8.0 * 4096 * 132 + 8.0 * (4096 - 512) * 1152 - 8.0 * r.indexQueryBytes,
                r.stepBytesDense(1, 4096), 1e-3);
        // one multiply per active weight element: FP8 bytes ~ elements, bf16 head 2 bytes each (within the scales)
        assertEquals(r.weightBytes(1, 512) - r.headBytes / 2.0, r.activeWeightElements, 0.03 * r.weightBytes(1, 512));
        // prefill: the head once (last token), linear in the weights, quadratic in attention; no index query (64 x 128 x
        // 384 + 64 x 1024 a layer) nor scores up to top-k
        assertEquals(64L * 128 * 384 + 64 * 1024, r.indexQueryElements);
        double query = 8.0 * r.indexQueryElements, attn1 = 2.0 * 8 * 16 * (192 + 128);  // one (query, key) pair
        double one = r.prefillFlops(1), n512 = r.prefillFlops(512), n513 = r.prefillFlops(513), n1024 = r.prefillFlops(1024);
        assertEquals(2.0 * (r.activeWeightElements - query) + attn1, one, 1);
        assertEquals(512 * (one - attn1) - 511 * 2.0 * r.headBytes / 2 + attn1 * 512 * 513 / 2, n512, 1e-9 * n512);
        // token 513 (position 512) is scored: its index query, top-k pairs of attention, 513 indexer scores
        assertEquals(2.0 * (r.activeWeightElements - r.headBytes / 2) + attn1 * 512 + 2.0 * 8 * 64 * 128 * 513, n513 - n512,
                1e-9 * n513);
        assertTrue(n1024 - 2 * n512 > 0, "attention makes prefill FLOPs superlinear");
        assertTrue(n512 < 512 * one, "the head runs for the last token only");
    }

    @Test
    void decodeFlopsOnMiniAreArchitectureMdCosts() throws IOException {
        DecodeRoofline r = new DecodeRoofline(Json.MAPPER.readTree(SynthConfig.MINI.configJson()));
        // architecture.md §12: absorbed attention core 2·H·(576+512)·K over K = min(L, top-k) keys, indexer scores
        // 2·64·128·L, per layer; the weight products 2 per active element. mini: 8 layers, 16 heads, top-k 512.
        double weights = 2.0 * r.activeWeightElements;
        // context 256: not scored (257 keys <= top-k): no index query, no indexer scores
        assertEquals(weights - 2.0 * 8 * r.indexQueryElements + 8 * (2.0 * 16 * 1088 * 256), r.decodeFlops(1, 256), 1);
        assertEquals(weights + 8 * (2.0 * 16 * 1088 * 512 + 2.0 * 64 * 128 * 4096), r.decodeFlops(1, 4096), 1);
        // past top-k only the indexer grows; a batch multiplies everything (each sequence its own tokens)
        assertEquals(8 * 2.0 * 64 * 128 * 3072, r.decodeFlops(1, 4096) - r.decodeFlops(1, 1024), 1);
        assertEquals(4 * r.decodeFlops(1, 1024), r.decodeFlops(4, 1024), 1e-6 * r.decodeFlops(4, 1024));
        // about architecture.md §17's 537 MFLOP a token (head 265 M) plus attention at context 1024
        assertEquals(537e6, weights, 10e6);
    }
}
