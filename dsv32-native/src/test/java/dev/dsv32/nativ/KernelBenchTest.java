package dev.dsv32.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        // The kernels' description starts with that path; AMX or AVX512-BF16 products only on the avx512 path.
        String kernels = KernelBench.cpuKernels();
        assertTrue(kernels.startsWith(KernelBench.kernelPath()), kernels);
        assertTrue(!kernels.contains("+") || kernels.startsWith("avx512 + "), kernels);
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

    @Test
    void blasBaselineRunsWhenInstalledAndIsUnavailableOtherwise() {
        String lib = KernelBench.blasDescription();
        assertFalse(lib.isBlank());
        assertFalse(KernelBench.blasAvailable(WeightFormat.FP8));
        if (KernelBench.blasAvailable(WeightFormat.F32)) {
            double gemv = KernelBench.blasLinearSeconds(WeightFormat.F32, 1, 1024, 1024, 1, 3);
            double gemm = KernelBench.blasLinearSeconds(WeightFormat.F32, 64, 1024, 1024, 1, 2);
            assertTrue(gemv > 0 && gemm > gemv, lib + ": gemv " + gemv + " s, gemm " + gemm + " s");
        } else {
            NativeException e = assertThrows(NativeException.class,
                    () -> KernelBench.blasLinearSeconds(WeightFormat.F32, 1, 64, 64, 1, 1));
            assertEquals(NativeException.Status.UNAVAILABLE, e.status(), e.getMessage());
            assertTrue(e.getMessage().contains("not available") && e.getMessage().contains(lib), e.getMessage());
        }
        if (!KernelBench.blasAvailable(WeightFormat.BF16)) {
            NativeException e = assertThrows(NativeException.class,
                    () -> KernelBench.blasLinearSeconds(WeightFormat.BF16, 2, 64, 64, 1, 1));
            assertTrue(e.getMessage().contains("not available"), e.getMessage());
        }
        NativeException e = assertThrows(NativeException.class, () -> KernelBench.blasLinearSeconds(WeightFormat.FP8, 1, 64, 64, 1, 1));
        assertTrue(e.getMessage().contains("no FP8"), e.getMessage());
    }

    @Test
    void sparseKernelsTimeAndScaleWithTheirWork() {
        double few = KernelBench.indexerSeconds(64, 128, 1024, 64, 1, 3);
        double many = KernelBench.indexerSeconds(64, 128, 16384, 64, 1, 3);
        assertTrue(few > 0 && many > few, "indexer: " + few + " s for 1K keys, " + many + " s for 16K");
        double a1 = KernelBench.sparseAttentionSeconds(1, 4096, 64, 1, 3);
        double a16 = KernelBench.sparseAttentionSeconds(16, 4096, 1024, 1, 3);
        assertTrue(a1 > 0 && a16 > a1, "sparse attention: " + a1 + " s vs " + a16 + " s");
        KernelBench.MoeShape small = new KernelBench.MoeShape(256, 16, 4, 2, 4, 64);
        double m1 = KernelBench.moeSeconds(1, small, 1, 3);
        double m64 = KernelBench.moeSeconds(64, small, 1, 2);
        assertTrue(m1 > 0 && m64 > m1, "moe: " + m1 + " s vs " + m64 + " s");
        assertEquals(2.0 * (64 * 1024 + 3.0 * 9 * 1024 * 256), KernelBench.MoeShape.MINI.flops(1), 1e-6);
    }

    @Test
    void sparseKernelArgumentErrorsNameTheArgument() {
        NativeException e = assertThrows(NativeException.class, () -> KernelBench.indexerSeconds(64, 128, 0, 64, 1, 1));
        assertTrue(e.getMessage().contains("n_keys must be in [1, 1048576], got 0"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.sparseAttentionSeconds(16, 1024, 0, 1, 1));
        assertTrue(e.getMessage().contains("topk"), e.getMessage());
        e = assertThrows(NativeException.class,
                () -> KernelBench.moeSeconds(4, new KernelBench.MoeShape(1024, 64, 7, 4, 8, 256), 1, 1));
        assertTrue(e.getMessage().contains("n_groups must divide n_experts"), e.getMessage());
        e = assertThrows(NativeException.class, () -> KernelBench.moeSeconds(4, KernelBench.MoeShape.MINI, -2, 1));
        assertTrue(e.getMessage().contains("n_threads"), e.getMessage());
    }
}
