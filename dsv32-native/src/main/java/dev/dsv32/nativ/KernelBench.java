package dev.dsv32.nativ;

import dev.dsv32.nativ.jni.Dsv32Native;
import java.nio.charset.StandardCharsets;

/**
 * Micro-benchmarks of the native kernels (src/main/jni/dsv32_bench.h): the engine's linear layer on given shapes and
 * weight formats with a BLAS baseline (OpenBLAS, opened at run time when installed), the indexer, sparse attention and
 * MoE on synthetic data, and the CPU's peak FMA throughput. For benchmarks and {@code dsv32 bench report}, not for inference.
 */
public final class KernelBench {
    /** Weight format of a benchmarked linear layer. */
    public enum WeightFormat {
        /** f32 weights: the engine's dense sgemm-like path. */
        F32(Dsv32Native.DSV32_BENCH_F32),
        /** e4m3 bytes with f32 128x128 block scales, dequantised on the fly (the checkpoint format). */
        FP8(Dsv32Native.DSV32_BENCH_FP8),
        /** bf16 weights (embedding, head, gates). */
        BF16(Dsv32Native.DSV32_BENCH_BF16),
        /**
         * {@link #FP8} weights with activations of bf16 values: the fp8 numerics' linear (AVX512-BF16 dot products where
         * the CPU has them). Only for {@link #linearSeconds}.
         */
        FP8_BF16X(Dsv32Native.DSV32_BENCH_FP8_BF16X);

        private final int code;

        WeightFormat(int code) {
            this.code = code;
        }

        /** Bytes of weights (with FP8's block scales) of an [n, k] matrix. */
        public long weightBytes(int n, int k) {
            return switch (this) {
                case F32 -> 4L * n * k;
                case BF16 -> 2L * n * k;
                case FP8, FP8_BF16X -> (long) n * k + 4L * ((n + 127) / 128) * ((k + 127) / 128);
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

    /**
     * The peer baseline on the same shape: {@code y = x W^T} by the CBLAS library found at run time (OpenBLAS; see
     * {@link #blasDescription()}) on the f32 dequantisation of random FP8 block-scaled weights ({@link WeightFormat#F32}:
     * sgemv for m = 1, else sgemm) or bf16 copies ({@link WeightFormat#BF16}: sbgemm). Best seconds per call.
     *
     * @throws NativeException UNAVAILABLE when no library (or no bf16 GEMM) is there ({@link #blasAvailable}); an
     *     argument error for FP8 and FP8_BF16X (no BLAS multiplies FP8) and for shapes out of {@link #linearSeconds}' range
     */
    public static double blasLinearSeconds(WeightFormat format, int m, int n, int k, int threads, int iters) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_blas_linear(format.code, m, n, k, threads, iters, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark BLAS baseline");
        return out[0];
    }

    /** Whether {@link #blasLinearSeconds} can run {@code format} here (never for FP8). */
    public static boolean blasAvailable(WeightFormat format) {
        return Dsv32Native.dsv32_bench_blas_available(format.code) == 1;
    }

    /** The baseline library with its build ("OpenBLAS 0.3.21 ... (libopenblas.so.0)"), or why there is none. */
    public static String blasDescription() {
        return Dsv32Native.dsv32_bench_blas_describe().getString(StandardCharsets.UTF_8);
    }

    /**
     * The DSA indexer of one decode query over {@code keys} cached keys (scores of {@code heads} x {@code headDim}
     * heads, then the top-k; no scores when keys <= topk, as in the engine): best seconds per call.
     */
    public static double indexerSeconds(int heads, int headDim, int keys, int topk, int threads, int iters) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_indexer(heads, headDim, keys, topk, threads, iters, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark indexer");
        return out[0];
    }

    /**
     * The absorbed sparse attention of one decode token, {@code heads} heads over min(topk, keys) of {@code keys}
     * cached 512 + 64-wide entries (scores, softmax, latent sum): best seconds per call.
     */
    public static double sparseAttentionSeconds(int heads, int keys, int topk, int threads, int iters) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_sparse_attention(heads, keys, topk, threads, iters, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark sparse attention");
        return out[0];
    }

    /** Shape of an MoE layer: hidden size, routed experts in groups, groups kept, experts per token, expert width. */
    public record MoeShape(int dim, int experts, int groups, int topkGroups, int active, int inter) {
        /** mini's (architecture.md §17). */
        public static final MoeShape MINI = new MoeShape(1024, 64, 8, 4, 8, 256);

        /** Multiply-adds x 2 of m tokens: gate, shared expert and the active experts' three matrices. */
        public double flops(int m) {
            return 2.0 * m * ((double) experts * dim + 3.0 * (active + 1) * dim * inter);
        }
    }

    /** An MoE layer (router + shared and routed FP8 experts) on m tokens: best seconds per call. */
    public static double moeSeconds(int m, MoeShape s, int threads, int iters) {
        double[] out = new double[1];
        int rc = Dsv32Native.dsv32_bench_moe(m, s.dim(), s.experts(), s.groups(), s.topkGroups(), s.active(), s.inter(),
                threads, iters, out);
        if (rc != Dsv32Native.DSV32_OK) throw NativeModel.error(rc, "benchmark MoE");
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

    /** The kernel path and what takes its bf16 products on this CPU, e.g. "avx512 + AMX (bf16 products)". */
    public static String cpuKernels() {
        return Dsv32Native.dsv32_bench_cpu_kernels().getString(StandardCharsets.UTF_8);
    }
}
