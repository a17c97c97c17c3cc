package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dsv32.Dsv32Exception;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NativeModel and NativeSequence: life cycle, argument checks, error mapping. Never a JVM crash. */
class NativeModelTest {
    static final Path TINY = GoldenCases.ROOT.resolve("tiny");

    @TempDir
    Path tmp;

    static NativeModel tiny() {
        return NativeModel.open(TINY, NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(64));
    }

    @Test
    void infoDescribesTheTinyModel() {
        try (NativeModel m = tiny()) {
            ModelInfo info = m.info();
            assertEquals(512, info.vocabSize());
            assertEquals(128, info.hiddenSize());
            assertEquals(3, info.numLayers());
            assertEquals(64, info.maxSeqLen());
            assertEquals(Numerics.F32, info.numerics());
            assertEquals(TINY, m.directory());
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsIllegalState() {
        NativeModel m = tiny();
        NativeSequence s = m.openSequence();
        s.forward(1, 2, 3);
        m.close();
        assertTrue(m.isClosed());
        assertTrue(s.isClosed());
        assertDoesNotThrow(m::close);
        assertDoesNotThrow(s::close);
        assertThrows(IllegalStateException.class, m::info);
        assertThrows(IllegalStateException.class, m::openSequence);
        assertThrows(IllegalStateException.class, () -> s.forward(4));
        assertThrows(IllegalStateException.class, () -> m.forward(s, 4));
        assertThrows(IllegalStateException.class, s::position);
    }

    @Test
    void aClosedSequenceCannotBeUsedButTheModelCan() {
        try (NativeModel m = tiny()) {
            NativeSequence s = m.openSequence();
            s.close();
            s.close();
            assertThrows(IllegalStateException.class, () -> s.forward(1));
            try (NativeSequence t = m.openSequence()) {
                assertEquals(512, t.forward(1).length);
                assertEquals(1, t.position());
            }
        }
    }

    @Test
    void badIdsAreRejectedBeforeTheEngineSeesThem() {
        try (NativeModel m = tiny(); NativeSequence s = m.openSequence()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.forward(1, -1));
            assertTrue(e.getMessage().contains("-1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> s.forward(512));
            assertTrue(e.getMessage().contains("512") && e.getMessage().contains("[0, 512)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.forward());
            assertThrows(NullPointerException.class, () -> s.forward((int[]) null));
            assertThrows(IllegalArgumentException.class, () -> m.forward(List.of()));
            assertThrows(IllegalArgumentException.class, () -> m.forward(List.of(BatchEntry.of(s, 1), BatchEntry.of(s, 2))));
            assertEquals(0, s.position(), "a rejected step does not advance the sequence");
            assertEquals(2 * 512, s.forward(7, 8).length);
            assertEquals(2, s.position());
        }
    }

    @Test
    void sequencesOfAnotherModelAreRejected() {
        try (NativeModel a = tiny(); NativeModel b = tiny(); NativeSequence s = b.openSequence()) {
            assertThrows(IllegalArgumentException.class, () -> a.forward(s, 1));
        }
    }

    @Test
    void cacheCapacityIsANativeExceptionNotACrash() {
        try (NativeModel m = NativeModel.open(TINY, NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(8));
             NativeSequence s = m.openSequence()) {
            NativeException e = assertThrows(NativeException.class, () -> s.forward(new int[9]));
            assertEquals(NativeException.Status.CAPACITY, e.status());
            s.forward(new int[8]);
            assertThrows(NativeException.class, () -> s.forward(1));
        }
    }

    @Test
    void tooManySequencesIsANativeException() {
        try (NativeModel m = NativeModel.open(TINY, NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(16).withMaxSequences(2))) {
            m.openSequence();
            m.openSequence();
            NativeException e = assertThrows(NativeException.class, m::openSequence);
            assertTrue(e instanceof Dsv32Exception);
        }
    }

    @Test
    void optionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withMp(-1));
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withMaxSeqLen(-5));
        assertThrows(IllegalArgumentException.class, () -> new NativeOptions(Numerics.F32, 0, 0, 0, 0, 64));
        assertThrows(NullPointerException.class, () -> NativeModel.open(null));
    }

    @Test
    void anMpThatCannotSplitTheCheckpointNamesTheTensorOrField() {
        // tiny's wo has K = 4 heads x 32 = 128: 64 per rank at mp=2, not a whole FP8 block (architecture.md §16.1)
        NativeException e = assertThrows(NativeException.class,
                () -> NativeModel.open(TINY, NativeOptions.defaults().withMp(2)));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("mp=2") && e.getMessage().contains("o_proj") && e.getMessage().contains("per-rank K of 64"),
                e.getMessage());
        Path mp2 = GoldenCases.ROOT.resolve("tiny_mp2");
        e = assertThrows(NativeException.class, () -> NativeModel.open(mp2, NativeOptions.defaults().withMp(3)));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("num_attention_heads (8)"), e.getMessage());
        try (NativeModel ok = NativeModel.open(mp2, NativeOptions.defaults().withMp(2).withMaxSeqLen(16))) {
            assertEquals(2, ok.info().mp());
        }
    }

    record ProgressCall(String stage, long done, long total) {}

    @Test
    void progressListenerGetsMonotoneCallsPerStageEndingAtTotal() {
        for (int mp : new int[] {1, 2}) {
            List<ProgressCall> calls = new ArrayList<>();
            Thread opener = Thread.currentThread();
            Path dir = GoldenCases.ROOT.resolve("tiny_mp2");
            try (NativeModel m = NativeModel.open(dir, NativeOptions.defaults().withMp(mp).withMaxSeqLen(16).withProgress((stage, done, total) -> {
                assertEquals(opener, Thread.currentThread());
                calls.add(new ProgressCall(stage, done, total));
            }))) {
                assertEquals(mp, m.info().mp());
            }
            List<String> stages = new ArrayList<>();
            for (int i = 0; i < calls.size(); i++) {
                ProgressCall c = calls.get(i);
                assertTrue(c.total() > 0 && c.done() >= 0 && c.done() <= c.total(), c.toString());
                if (i == 0 || !calls.get(i - 1).stage().equals(c.stage())) {
                    if (i > 0) {
                        ProgressCall last = calls.get(i - 1);
                        assertEquals(last.total(), last.done(), "stage " + last.stage() + " did not end at its total");
                    }
                    stages.add(c.stage());
                } else {
                    ProgressCall prev = calls.get(i - 1);
                    assertTrue(c.done() >= prev.done() && c.total() == prev.total(), prev + " then " + c);
                }
            }
            // then "pack" where the CPU repacks or copies weights for its kernels: the layers' matrices into huge-page
            // memory (unless DSV32_WEIGHT_ARENA=0; where /proc/meminfo tells the memory available), the head's row panels
            // on the AVX-512 and AVX2 paths and the W_UK tiles on the AVX-512 path
            boolean arena = !"0".equals(System.getenv("DSV32_WEIGHT_ARENA")) && Files.isReadable(Path.of("/proc/meminfo"));
            String path = KernelBench.kernelPath();
            boolean panels = ("avx512".equals(path) || "avx2".equals(path)) && !"0".equals(System.getenv("DSV32_HEAD_PANELS"));
            if (arena || panels || stages.size() == 4) {
                assertEquals(List.of("map", "validate", "shard", "pack"), stages);
            } else {
                assertEquals(List.of("map", "validate", "shard"), stages);
            }
            ProgressCall last = calls.get(calls.size() - 1);
            assertEquals(last.total(), last.done());
            assertTrue(calls.size() < 100, "per file / per layer, not per tensor: " + calls.size() + " calls");
        }
    }

    @Test
    void aThrowingProgressListenerDoesNotBreakTheLoad() {
        AtomicInteger calls = new AtomicInteger();
        LoadProgressListener bad = (stage, done, total) -> {
            calls.incrementAndGet();
            throw new IllegalStateException("listener bug");
        };
        try (NativeModel m = NativeModel.open(TINY, NativeOptions.defaults().withNumerics(Numerics.F32).withMaxSeqLen(16).withProgress(bad));
             NativeSequence s = m.openSequence()) {
            assertEquals(1, calls.get(), "a listener that threw is not called again during that open");
            float[] logits = s.forward(1, 2, 3);
            assertEquals(3 * 512, logits.length);
            try (NativeModel plain = tiny(); NativeSequence p = plain.openSequence()) {
                assertArrayEquals(p.forward(1, 2, 3), logits); // the load was complete
            }
        }
        // Errors still get through; Errors from the listener are contained too.
        LoadProgressListener worse = (stage, done, total) -> {
            throw new AssertionError("listener error");
        };
        try (NativeModel m = NativeModel.open(TINY, NativeOptions.defaults().withMaxSeqLen(16).withProgress(worse))) {
            assertEquals(512, m.info().vocabSize());
        }
        assertThrows(CheckpointException.class, () -> NativeModel.open(tmp, NativeOptions.defaults().withProgress(bad)));
    }

    @Test
    void missingDirectoryIsACheckpointException() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> NativeModel.open(TINY.resolve("config.json")));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void emptyDirectoryIsACheckpointException() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp));
        assertEquals(NativeException.Status.CHECKPOINT, e.status());
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void truncatedSafetensorsIsACheckpointExceptionNamingTheFile() throws IOException {
        Files.copy(TINY.resolve("config.json"), tmp.resolve("config.json"));
        byte[] st = Files.readAllBytes(TINY.resolve("model.safetensors"));
        Files.write(tmp.resolve("model.safetensors"), Arrays.copyOf(st, st.length / 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void garbageSafetensorsIsACheckpointException() throws IOException {
        Files.copy(TINY.resolve("config.json"), tmp.resolve("config.json"));
        Files.write(tmp.resolve("model.safetensors"), "not a safetensors file".getBytes(StandardCharsets.UTF_8));
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void aMissingTensorIsACheckpointExceptionNamingTheTensor() throws IOException {
        Files.copy(TINY.resolve("config.json"), tmp.resolve("config.json"));
        byte[] st = Files.readAllBytes(TINY.resolve("model.safetensors"));
        long n = ByteBuffer.wrap(st).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = (ObjectNode) json.readTree(new String(st, 8, (int) n, StandardCharsets.UTF_8));
        String victim = "model.norm.weight";
        assertTrue(header.has(victim));
        header.remove(victim); // the data stays, unreferenced: the file is otherwise valid
        byte[] h = json.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded + st.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) out.put((byte) ' ');
        out.put(st, 8 + (int) n, st.length - 8 - (int) n);
        Files.write(tmp.resolve("model.safetensors"), out.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp));
        assertTrue(e.getMessage().contains(victim), e.getMessage());
    }

    @Test
    void badConfigIsACheckpointExceptionNamingTheFile() throws IOException {
        Files.copy(TINY.resolve("model.safetensors"), tmp.resolve("model.safetensors"));
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": ");
        CheckpointException e = assertThrows(CheckpointException.class, () -> NativeModel.open(tmp));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
