package dev.dsv32.nativ;

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
import java.util.Arrays;
import java.util.List;
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
