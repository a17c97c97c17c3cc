package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dsv32.nativ.KernelBench.WeightFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KernelBenchTest {
    @Test
    void linearTimesEveryFormatAndMoreWorkTakesLonger() {
        for (WeightFormat f : WeightFormat.values()) {
            double small = KernelBench.linearSeconds(f, 1, 256, 256, 1, 3);
            double big = KernelBench.linearSeconds(f, 1, 2048, 2048, 1, 3);
            assertTrue(small > 0 && big > small, f + ": " + small + " s for 256x256, " + big + " s for 2048x2048");
        }
        // The real vocabulary's head (n = 129,280 rows, more than 2^16) is a valid shape.
        assertTrue(KernelBench.linearSeconds(WeightFormat.BF16, 1, 129280, 8, 1, 1) > 0);
    }

    @Test
    void fmaPeakIsPositiveAndAboveOneCoreScalarFloor() {
        double g = KernelBench.fmaPeakGflops(1, 0.05);
        assertTrue(g > 0.5 && g < 1e5, "peak " + g + " GFLOP/s");
        assertTrue(Set.of("scalar", "avx2", "avx512").contains(KernelBench.kernelPath()), KernelBench.kernelPath());
    }

    @Test
    void badArgumentsAreNativeExceptionsNamingTheArgument() {
        NativeException e = assertThrows(NativeException.class, () -> KernelBench.linearSeconds(WeightFormat.FP8, 0, 8, 8, 1, 1));
        assertTrue(e.getMessage().contains("m must be"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.linearSeconds(WeightFormat.F32, 1, 8, 70000, 1, 1));
        assertTrue(e.getMessage().contains("k must be"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.linearSeconds(WeightFormat.BF16, 1, 1 << 20, 2048, 1, 1));
        assertTrue(e.getMessage().contains("n * k must be"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.fmaPeakGflops(-1, 0.1));
        assertTrue(e.getMessage().contains("n_threads"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.fmaPeakGflops(1, 0));
        assertTrue(e.getMessage().contains("min_seconds"), e.getMessage());
    }
}
