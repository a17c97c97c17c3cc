package dev.dsv32.nativ.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dsv32.encoding.ChatEncoder;
import dev.dsv32.encoding.Message;
import dev.dsv32.nativ.NativeModel;
import dev.dsv32.nativ.NativeOptions;
import dev.dsv32.nativ.NativeSequence;
import dev.dsv32.nativ.Numerics;
import dev.dsv32.nativ.synth.SynthConfig.DType;
import dev.dsv32.nativ.synth.SynthConfig.Tensor;
import dev.dsv32.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticCheckpointTest {
    static final Path GOLDEN = Path.of("src", "test", "resources", "golden");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path make(Path dir, SynthConfig c, long seed) throws IOException {
        new SyntheticCheckpoint(c, seed).writeTo(dir, 0);
        return dir;
    }

    static JsonNode header(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            long n = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return JSON.readTree(in.readNBytes((int) n));
        }
    }

    @Test
    void configJsonIsTheGoldenOne() throws IOException {
        for (String c : List.of("tiny", "tiny_mp2")) {
            String golden = Files.readString(GOLDEN.resolve(c).resolve("config.json"));
            // the golden files are Python's json.dump(indent=2) output; the writer reproduces them byte for byte
            assertEquals(golden.strip(), SynthConfig.of(c).configJson().strip(), c);
        }
        JsonNode mini = JSON.readTree(SynthConfig.MINI.configJson());
        assertEquals(129280, mini.get("vocab_size").asInt());
        assertEquals(163840, mini.get("max_position_embeddings").asInt());
        assertEquals(40.0, mini.get("rope_scaling").get("factor").asDouble());
        assertEquals(4096, mini.get("rope_scaling").get("original_max_position_embeddings").asInt());
        assertEquals(2816, mini.get("intermediate_size").asInt());
        assertEquals(129280, JSON.readTree(SynthConfig.TINY_CHAT.configJson()).get("vocab_size").asInt());
    }

    @Test
    void tensorNamesDtypesAndShapesMatchTheGoldenCheckpoints() throws IOException {
        for (String c : List.of("tiny", "tiny_mp2")) {
            JsonNode golden = header(GOLDEN.resolve(c).resolve("model.safetensors"));
            Map<String, Tensor> mine = new HashMap<>();
            for (Tensor t : SynthConfig.of(c).tensors()) mine.put(t.name(), t);
            int n = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = golden.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                Tensor t = mine.get(e.getKey());
                assertTrue(t != null, c + ": missing " + e.getKey());
                assertEquals(e.getValue().get("dtype").asText(), t.dtype().safetensorsName, e.getKey());
                assertArrayEquals(JSON.convertValue(e.getValue().get("shape"), long[].class), t.shape(), e.getKey());
                n++;
            }
            assertEquals(n, mine.size(), c);
        }
    }

    @Test
    void sizesMatchTheArchitectureSanityNumbers() {
        // architecture.md §16-§18
        assertEquals(2_572_192, SynthConfig.TINY.parameters());
        assertEquals(4_640_000, SynthConfig.TINY_MP2.parameters(), 10_000);
        assertEquals(709_323_200L, SynthConfig.MINI.parameters());
        SyntheticCheckpoint mini = new SyntheticCheckpoint(SynthConfig.MINI, 1);
        assertEquals(975e6, mini.fileSize(), 1e6); // "FP8 file 975 MB (930 MiB)"
        assertEquals(930.0, mini.fileSize() / 1048576.0, 1.0);
        SyntheticCheckpoint chat = new SyntheticCheckpoint(SynthConfig.TINY_CHAT, 1);
        // embedding + head in bf16: 2 x 129280 x 128 x 2 B = 66 MB, the rest as tiny
        assertTrue(chat.fileSize() > 66_000_000 && chat.fileSize() < 70_000_000, "tiny_chat " + chat.fileSize());
        // mini: every shape of §17, spot-checked
        Map<String, Tensor> t = new HashMap<>();
        for (Tensor x : SynthConfig.MINI.tensors()) t.put(x.name(), x);
        assertArrayEquals(new long[] {576, 1024}, t.get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight").shape());
        assertArrayEquals(new long[] {5, 8}, t.get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv").shape());
        assertArrayEquals(new long[] {16 * 192, 384}, t.get("model.layers.3.self_attn.q_b_proj.weight").shape());
        assertArrayEquals(new long[] {64 * 128, 384}, t.get("model.layers.7.self_attn.indexer.wq_b.weight").shape());
        assertArrayEquals(new long[] {2816, 1024}, t.get("model.layers.0.mlp.gate_proj.weight").shape());
        assertArrayEquals(new long[] {1024, 256}, t.get("model.layers.7.mlp.experts.63.down_proj.weight").shape());
        assertEquals(DType.BF16, t.get("lm_head.weight").dtype());
        assertFalse(t.containsKey("model.layers.8.input_layernorm.weight"));
        assertFalse(t.containsKey("model.layers.0.mlp.experts.0.up_proj.weight"));
    }

    @Test
    void theHeaderDescribesAContiguousAlignedFile() throws IOException {
        SyntheticCheckpoint ck = new SyntheticCheckpoint(SynthConfig.MINI, 3);
        byte[] h = ck.headerBytes();
        assertEquals(0, h.length % 8);
        long n = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode j = JSON.readTree(Arrays.copyOfRange(h, 8, 8 + (int) n));
        assertEquals("pt", j.get("__metadata__").get("format").asText());
        List<long[]> ranges = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = j.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            long a = e.getValue().get("data_offsets").get(0).asLong(), b = e.getValue().get("data_offsets").get(1).asLong();
            int size = DType.valueOf(e.getValue().get("dtype").asText()).size;
            assertEquals(0, a % size, e.getKey());
            ranges.add(new long[] {a, b});
        }
        long end = 0;
        for (long[] r : ranges) {
            assertEquals(end, r[0]);
            end = r[1];
        }
        assertEquals(ck.fileSize(), h.length + end);
    }

    @Test
    void progressIsMonotoneEndsAtTotalAndLeavesTheBytesUnchanged() throws Exception {
        // 3 workers report concurrently: the calls must still come in order
        SyntheticCheckpoint ck = new SyntheticCheckpoint(SynthConfig.TINY_MP2, 4);
        ck.writeTo(tmp.resolve("plain"), 3);
        List<long[]> calls = new ArrayList<>();
        List<String> stages = new ArrayList<>();
        ck.writeTo(tmp.resolve("watched"), 3, (stage, done, total) -> {
            synchronized (calls) {
                stages.add(stage);
                calls.add(new long[] {done, total});
            }
        });
        assertTrue(calls.size() > ck.tensors().size() / 2, "about one call per tensor: " + calls.size());
        long prev = 0;
        for (long[] c : calls) {
            assertEquals(ck.fileSize(), c[1]);
            assertTrue(c[0] >= prev && c[0] <= c[1], c[0] + " after " + prev);
            prev = c[0];
        }
        assertEquals(ck.fileSize(), calls.get(calls.size() - 1)[0]);
        assertTrue(stages.stream().allMatch("write"::equals), stages.toString());
        assertEquals(sha256(tmp.resolve("plain").resolve("model.safetensors")), sha256(tmp.resolve("watched").resolve("model.safetensors")));
        // tiny, one worker with a listener against several without one
        ck = new SyntheticCheckpoint(SynthConfig.TINY, 1);
        long[] last = {0};
        ck.writeTo(tmp.resolve("tiny"), 1, (stage, done, total) -> last[0] = done);
        ck.writeTo(tmp.resolve("tiny-plain"), 0);
        assertEquals(ck.fileSize(), last[0]);
        assertEquals(sha256(tmp.resolve("tiny-plain").resolve("model.safetensors")), sha256(tmp.resolve("tiny").resolve("model.safetensors")));
        // the cache path reports too when it generates, and not when the checkpoint is already there
        long[] cacheCalls = {0};
        SyntheticCheckpoint.cached(SynthConfig.TINY, 1, tmp.resolve("cache"), (stage, done, total) -> cacheCalls[0]++);
        assertTrue(cacheCalls[0] > 0);
        long before = cacheCalls[0];
        SyntheticCheckpoint.cached(SynthConfig.TINY, 1, tmp.resolve("cache"), (stage, done, total) -> cacheCalls[0]++);
        assertEquals(before, cacheCalls[0]);
    }

    static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void sameSeedSameBytesDifferentSeedDifferentBytes() throws IOException {
        Path a = make(tmp.resolve("a"), SynthConfig.TINY, 5);
        new SyntheticCheckpoint(SynthConfig.TINY, 5).writeTo(tmp.resolve("b"), 1); // one thread: same bytes
        Path c = make(tmp.resolve("c"), SynthConfig.TINY, 6);
        byte[] fa = Files.readAllBytes(a.resolve("model.safetensors"));
        assertArrayEquals(fa, Files.readAllBytes(tmp.resolve("b").resolve("model.safetensors")));
        byte[] fc = Files.readAllBytes(c.resolve("model.safetensors"));
        assertEquals(fa.length, fc.length);
        assertFalse(Arrays.equals(fa, fc));
        assertEquals(new SyntheticCheckpoint(SynthConfig.TINY, 5).fileSize(), fa.length);
        // a tensor's bytes depend on its name and the seed only (an own stream per tensor)
        SyntheticCheckpoint ck = new SyntheticCheckpoint(SynthConfig.TINY, 5);
        int off = (int) ck.fileOffset("model.layers.1.mlp.gate.e_score_correction_bias");
        FloatStats s = FloatStats.of(ByteBuffer.wrap(fa, off, 16 * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().slice(), 16);
        assertTrue(Math.abs(s.mean) < 0.05 && s.std > 0.02 && s.std < 0.1, s.toString());
    }

    @Test
    void weightsFollowTheRecipe() throws IOException {
        Path d = make(tmp.resolve("w"), SynthConfig.TINY, 1);
        byte[] f = Files.readAllBytes(d.resolve("model.safetensors"));
        SyntheticCheckpoint ck = new SyntheticCheckpoint(SynthConfig.TINY, 1);
        // q_a_proj [128, 128]: one block; W = W8 * s ~ N(0, 1/sqrt(128)); some code is ±448 (the block's amax)
        int w = (int) ck.fileOffset("model.layers.0.self_attn.q_a_proj.weight");
        float s = ByteBuffer.wrap(f, (int) ck.fileOffset("model.layers.0.self_attn.q_a_proj.weight_scale_inv"), 4)
                .order(ByteOrder.LITTLE_ENDIAN).getFloat();
        double sum = 0, sq = 0, amax = 0;
        for (int i = 0; i < 128 * 128; i++) {
            double v = E4m3.decode(f[w + i]) * s;
            sum += v;
            sq += v * v;
            amax = Math.max(amax, Math.abs(E4m3.decode(f[w + i])));
        }
        double std = Math.sqrt(sq / 16384 - Math.pow(sum / 16384, 2));
        assertEquals(Math.pow(128, -0.5), std, 0.005);
        assertEquals(448.0, amax);
        // norms 1 + N(0, 0.1) in f32; embedding N(0, 1) in bf16
        FloatStats norm = FloatStats.of(ByteBuffer.wrap(f, (int) ck.fileOffset("model.norm.weight"), 512)
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().slice(), 128);
        assertEquals(1.0, norm.mean, 0.05);
        assertEquals(0.1, norm.std, 0.03);
        int e = (int) ck.fileOffset("model.embed_tokens.weight");
        double es = 0;
        for (int i = 0; i < 512 * 128; i++) {
            float v = Float.intBitsToFloat((ByteBuffer.wrap(f, e + 2 * i, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF) << 16);
            es += v * v;
        }
        assertEquals(1.0, Math.sqrt(es / (512 * 128)), 0.02);
    }

    @Test
    void generatedTinyAndTinyMp2LoadAndGiveFiniteLogits() throws IOException {
        for (SynthConfig c : List.of(SynthConfig.TINY, SynthConfig.TINY_MP2)) {
            Path d = make(tmp.resolve(c.id), c, 11);
            for (int mp : c == SynthConfig.TINY_MP2 ? new int[] {1, 2} : new int[] {1}) {
                for (Numerics n : List.of(Numerics.F32, Numerics.FP8)) {
                    NativeOptions o = NativeOptions.defaults().withNumerics(n).withMp(mp).withMaxSeqLen(128);
                    try (NativeModel m = NativeModel.open(d, o); NativeSequence s = m.openSequence()) {
                        assertEquals(512, m.info().vocabSize());
                        int[] ids = new int[48];
                        for (int i = 0; i < ids.length; i++) ids[i] = (i * 37 + 5) % 512;
                        assertFinite(s.forward(ids), c + " " + n + " mp" + mp);
                        assertFinite(s.forward(7), c + " decode");
                    }
                }
            }
        }
    }

    @Test
    void tinyChatTakesRealTokenIds() throws IOException {
        Path d = SyntheticCheckpoint.cached(SynthConfig.TINY_CHAT, 1, tmp.resolve("cache"));
        assertEquals(tmp.resolve("cache").resolve("models").resolve("tiny_chat-seed1"), d);
        String prompt = ChatEncoder.defaults().encode(List.of(Message.user("Hello! 你好, what is 1+1?")));
        int[] ids = Tokenizer.v32().encode(prompt);
        assertTrue(ids.length > 8);
        int[] all = Arrays.copyOf(ids, ids.length + 2);
        all[ids.length] = 128814; // the highest special token id
        all[ids.length + 1] = 129279;
        assertTrue(Arrays.stream(ids).max().getAsInt() >= 128798, "special tokens in the prompt");
        try (NativeModel m = NativeModel.open(d, NativeOptions.defaults().withMaxSeqLen(64));
             NativeSequence s = m.openSequence()) {
            assertEquals(129280, m.info().vocabSize());
            float[] logits = s.forward(all);
            assertEquals(all.length * 129280L, logits.length);
            assertFinite(logits, "tiny_chat");
        }
        // second use: the cached copy, untouched
        long modified = Files.getLastModifiedTime(d.resolve("model.safetensors")).toMillis();
        assertEquals(d, SyntheticCheckpoint.cached(SynthConfig.TINY_CHAT, 1, tmp.resolve("cache")));
        assertEquals(modified, Files.getLastModifiedTime(d.resolve("model.safetensors")).toMillis());
    }

    @Test
    void concurrentFirstUseYieldsOneCompleteCheckpoint() throws Exception {
        Path cache = tmp.resolve("cache2");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Path>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit((Callable<Path>) () -> SyntheticCheckpoint.cached(SynthConfig.TINY, 2, cache)));
            }
            Path first = fs.get(0).get();
            for (Future<Path> f : fs) assertEquals(first, f.get());
        } finally {
            pool.shutdownNow();
        }
        try (var s = Files.list(cache.resolve("models"))) {
            assertEquals(List.of("tiny-seed2"), s.map(p -> p.getFileName().toString()).toList()); // no temp dirs left
        }
        assertEquals(new SyntheticCheckpoint(SynthConfig.TINY, 2).fileSize(),
                Files.size(cache.resolve("models/tiny-seed2/model.safetensors")));
    }

    static void assertFinite(float[] x, String what) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) throw new AssertionError(what + ": logit " + i + " = " + x[i]);
        }
        double sq = 0;
        for (float v : x) sq += v * v;
        assertTrue(sq > 0, what + ": all logits zero");
    }

    record FloatStats(double mean, double std) {
        static FloatStats of(java.nio.FloatBuffer b, int n) {
            double s = 0, q = 0;
            for (int i = 0; i < n; i++) {
                s += b.get(i);
                q += b.get(i) * b.get(i);
            }
            return new FloatStats(s / n, Math.sqrt(q / n - (s / n) * (s / n)));
        }
    }
}
