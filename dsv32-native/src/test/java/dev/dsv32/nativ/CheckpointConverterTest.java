package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CheckpointConverter (dsv32_convert) and opening its output through NativeModel. */
class CheckpointConverterTest {
    static final Path TINY_MP2 = GoldenCases.ROOT.resolve("tiny_mp2");

    @TempDir
    Path tmp;

    /** Logits of a prefill and three decode steps from dir at mp ranks. */
    static float[] logits(Path dir, int mp) {
        try (NativeModel m = NativeModel.open(dir, NativeOptions.defaults().withNumerics(Numerics.F32).withMp(mp).withMaxSeqLen(64));
             NativeSequence s = m.openSequence()) {
            List<float[]> rows = new ArrayList<>();
            rows.add(s.forward(5, 46, 121, 174, 506, 121, 429, 107));
            for (int t : new int[] {322, 38, 351}) rows.add(s.forward(t));
            int n = rows.stream().mapToInt(r -> r.length).sum(), off = 0;
            float[] all = new float[n];
            for (float[] r : rows) {
                System.arraycopy(r, 0, all, off, r.length);
                off += r.length;
            }
            return all;
        }
    }

    @Test
    void convertedAtMp2LoadsBitwiseEqualToTheHfCheckpointWithVerifiedChecksums() throws IOException, NoSuchAlgorithmException {
        Path out = tmp.resolve("mp2");
        List<String> stages = new ArrayList<>();
        long[] last = new long[2];
        CheckpointConverter.Result r = CheckpointConverter.convert(TINY_MP2, out, CheckpointConverter.Options.of(2).withThreads(2)
                .withProgress((stage, done, total) -> {
                    if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(stage)) stages.add(stage);
                    last[0] = done;
                    last[1] = total;
                }));
        assertEquals(2, r.files());
        assertTrue(r.verified());
        assertEquals(List.of("map", "validate", "shard", "convert", "verify"), stages);
        assertEquals(last[1], last[0], "the last stage ends at its total");

        // The manifest's checksums, recomputed with the JDK's SHA-256 (an implementation independent of the engine's).
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("dsv32-convert.json").toFile());
        assertEquals(2, manifest.get("mp").intValue());
        long bytes = 0;
        for (int rank = 0; rank < 2; rank++) {
            JsonNode f = manifest.get("files").get(rank);
            Path file = out.resolve("model" + rank + "-mp2.safetensors");
            assertEquals(file.getFileName().toString(), f.get("name").asText());
            assertEquals(Files.size(file), f.get("bytes").longValue());
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
            assertEquals(sha, f.get("sha256").asText(), file.toString());
            bytes += Files.size(file);
        }
        assertEquals(bytes, r.bytes());
        assertEquals(Files.readString(TINY_MP2.resolve("config.json")), Files.readString(out.resolve("config.json")));

        assertArrayEquals(logits(TINY_MP2, 2), logits(out, 2), "converted at mp=2 vs the HF checkpoint at mp=2: bit for bit");
        NativeException wrong = assertThrows(NativeException.class, () -> logits(out, 1));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, wrong.status());
        assertTrue(wrong.getMessage().contains("mp=2"), wrong.getMessage());
    }

    @Test
    void badRequestsAreInvalidArgumentsAndLeaveNoRankFiles() throws IOException {
        Path out = tmp.resolve("mp3");
        NativeException e = assertThrows(NativeException.class, () -> CheckpointConverter.convert(TINY_MP2, out, CheckpointConverter.Options.of(3)));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
        Set<String> left = new LinkedHashSet<>();
        if (Files.isDirectory(out)) {
            try (var s = Files.list(out)) {
                s.forEach(p -> left.add(p.getFileName().toString()));
            }
        }
        assertFalse(left.stream().anyMatch(n -> n.endsWith(".safetensors") || n.equals("dsv32-convert.json")), left.toString());

        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "x");
        e = assertThrows(NativeException.class, () -> CheckpointConverter.convert(TINY_MP2, full, CheckpointConverter.Options.of(2)));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertTrue(CheckpointConverter.convert(TINY_MP2, full, CheckpointConverter.Options.of(1).withForce(true)).verified());
        assertTrue(Files.exists(full.resolve("model0-mp1.safetensors")) && Files.exists(full.resolve("keep.txt")));

        assertThrows(CheckpointException.class, () -> CheckpointConverter.convert(tmp.resolve("none"), out, CheckpointConverter.Options.of(1)));
        assertThrows(IllegalArgumentException.class, () -> CheckpointConverter.Options.of(0));
    }
}
