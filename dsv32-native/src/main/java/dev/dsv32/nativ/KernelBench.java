package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native;
import java.nio.charset.StandardCharsets;

/**
 * Micro-benchmarks of the native kernels (src/main/jni/dsv32_bench.h): the engine's linear layer on given shapes and
 * weight formats, and the CPU's peak FMA throughput. For benchmarks and {@code dsv32 bench report}, not for inference.
 */
public final class KernelBench {
    /** Weight format of a benchmarked linear layer. */
    public enum WeightFormat {
        /** f32 weights: the engine's dense sgemm-like path. */
        F32(Dsv32Native.DSV32_BENCH_F32),
        /** e4m3 bytes with f32 128x128 block scales, dequantised on the fly (the checkpoint format). */
        FP8(Dsv32Native.DSV32_BENCH_FP8),
        /** bf16 weights (embedding, head, gates). */
        BF16(Dsv32Native.DSV32_BENCH_BF16);

        private final int code;

        WeightFormat(int code) {
            this.code = code;
        }

        /** Bytes of weights (with FP8's block scales) of an [n, k] matrix. */
        public long weightBytes(int n, int k) {
            return switch (this) {
                case F32 -> 4L * n * k;
                case BF16 -> 2L * n * k;
                case FP8 -> (long) n * k + 4L * ((n + 127) / 128) * ((k + 127) / 128);
            };
        }
    }

    private KernelBench() {}

    /**
     * Best seconds per call of {@code y[m, n] = x[m, k] W[n, k]^T} over {@code iters} calls (after a warm-up call) on
     * {@code threads} threads (0 = all cores), random data.
     *
     * @throws NativeException for shapes out of range (m in [1, 4096], n in [1, 2^20], k in [1, 65536], n * k at most 2^30) or iters < 1
     */
    public static double linearSeconds(WeightFormat format, int m, int n, int k, int threads, int iters) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_linear(format.code, m, n, k, threads, iters, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark linear");
        return out[0];
    }

    /** Peak f32 FMA GFLOP/s of this CPU on {@code threads} threads (0 = all cores), runs of at least minSeconds. */
    public static double fmaPeakGflops(int threads, double minSeconds) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_fma_peak(threads, minSeconds, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark FMA peak");
        return out[0];
    }

    /** The active kernel path: scalar, avx2 or avx512. */
    public static String kernelPath() {
        return Dsv32Native.dsv32_bench_kernel_path().getString(StandardCharsets.UTF_8);
    }
}
