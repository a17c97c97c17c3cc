package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA backend through the Java API. With a usable CUDA device: every golden case (tiny and tiny_mp2, at model
 * parallelism 1: one GPU) in f32 numerics against the f32 references, plus chunked prefill. Without one (no device, or
 * a library built without nvcc) those are skipped, and the errors are checked instead: clear exceptions with the
 * engine's reason, AUTO falling back to the CPU.
 */
class NativeCudaBackendTest {
    private static final Optional<String> CUDA_UNAVAILABLE = NativeModel.backendUnavailableReason(NativeBackend.CUDA);

    static Stream<GoldenCases.Case> cases() {
        List<GoldenCases.Case> all = GoldenCases.all();
        assertFalse(all.isEmpty(), "no golden cases under " + GoldenCases.ROOT.toAbsolutePath());
        return all.stream();
    }

    private static void assumeCuda() {
        assumeTrue(CUDA_UNAVAILABLE.isEmpty(), () -> "CUDA backend not available: " + CUDA_UNAVAILABLE.orElse(""));
    }

    private static NativeModel openCuda(GoldenCases.Case c) {
        return NativeModel.open(c.dir(), NativeOptions.defaults().withNumerics(Numerics.F32).withBackend(NativeBackend.CUDA)
                .withMaxSequences(Math.max(8, c.tokens().length)));
    }

    @ParameterizedTest(name = "{0} on cuda")
    @MethodSource("cases")
    void goldenLogitsOnCuda(GoldenCases.Case c) throws IOException {
        assumeCuda();
        try (NativeModel model = openCuda(c)) {
            ModelInfo info = model.info();
            assertEquals(NativeBackend.CUDA, info.backend());
            assertEquals(1, info.mp());
            LogitsComparison r = NativeModelGoldenTest.compare(c, NativeModelGoldenTest.run(model, c.tokens(), c.decodeFrom(), 0),
                    info.vocabSize());
            assertTrue(r.passes(), c + " on " + info.device() + ": " + r);
        }
    }

    @Test
    void chunkedPrefillOnCuda() throws IOException {
        assumeCuda();
        GoldenCases.Case c = GoldenCases.load(GoldenCases.ROOT.resolve("tiny"), 1).stream()
                .filter(k -> k.name().equals("prefill_300")).findFirst().orElseThrow();
        try (NativeModel model = openCuda(c)) {
            LogitsComparison r = NativeModelGoldenTest.compare(c, NativeModelGoldenTest.run(model, c.tokens(), c.decodeFrom(), 64),
                    model.info().vocabSize());
            assertTrue(r.passes(), c + " in chunks of 64: " + r);
        }
    }

    @Test
    void cudaWithoutADeviceIsAClearError() {
        assumeTrue(CUDA_UNAVAILABLE.isPresent(), "a CUDA device is present");
        String reason = CUDA_UNAVAILABLE.get();
        assertTrue(reason.startsWith("backend cuda is not available"), reason);
        GoldenCases.Case c = cases().findFirst().orElseThrow();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> NativeModel.open(c.dir(), NativeOptions.defaults().withBackend(NativeBackend.CUDA)));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertEquals(NativeException.Status.UNAVAILABLE, e.status());
        // AUTO falls back to the CPU and says so.
        try (NativeModel model = NativeModel.open(c.dir(), NativeOptions.defaults().withBackend(NativeBackend.AUTO).withMaxSeqLen(64))) {
            assertEquals(NativeBackend.CPU, model.info().backend());
            assertTrue(model.info().device().startsWith("cpu"), model.info().device());
        }
    }

    @Test
    void cpuAndAutoAreAlwaysAvailable() {
        assertEquals(Optional.empty(), NativeModel.backendUnavailableReason(NativeBackend.CPU));
        assertEquals(Optional.empty(), NativeModel.backendUnavailableReason(NativeBackend.AUTO));
        GoldenCases.Case c = cases().findFirst().orElseThrow();
        try (NativeModel model = NativeModel.open(c.dir(), NativeOptions.defaults().withMaxSeqLen(64))) {
            assertEquals(NativeBackend.CPU, model.info().backend(), "the default backend is the CPU");
        }
        try (NativeModel model = NativeModel.open(c.dir(), NativeOptions.defaults().withBackend(NativeBackend.AUTO).withMaxSeqLen(64))) {
            assertEquals(CUDA_UNAVAILABLE.isEmpty() ? NativeBackend.CUDA : NativeBackend.CPU, model.info().backend());
        }
    }

    @Test
    void cudaAtModelParallelismTwoIsAnOptionErrorOnAGpu() {
        assumeCuda();
        GoldenCases.Case c = cases().findFirst().orElseThrow();
        NativeException e = assertThrows(NativeException.class,
                () -> NativeModel.open(c.dir(), NativeOptions.defaults().withBackend(NativeBackend.CUDA).withMp(2)));
        assertEquals(NativeException.Status.INVALID_ARGUMENT, e.status());
        assertTrue(e.getMessage().contains("mp 2"), e.getMessage());
    }

    @Test
    void optionsCheckTheirArguments() {
        assertThrows(NullPointerException.class, () -> NativeOptions.defaults().withBackend(null));
        assertThrows(IllegalArgumentException.class, () -> NativeOptions.defaults().withDevice(-1));
        assertEquals(NativeBackend.CUDA, NativeBackend.ofCode(1));
        assertThrows(IllegalArgumentException.class, () -> NativeBackend.ofCode(7));
        assertEquals(NativeBackend.CPU, NativeOptions.defaults().backend());
    }
}
