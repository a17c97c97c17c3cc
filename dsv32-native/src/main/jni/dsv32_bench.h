/*
 * dsv32_bench.h: micro-benchmark entry points of the native core (benchmarks/ and `dsv32 bench report`), not part of
 * the engine's C API. Implemented in src/main/cpp/bench_api.cpp (compiled into libdsv32). Each returns DSV32_OK or
 * DSV32_ERR_INVALID_ARGUMENT with the reason in dsv32_last_error().
 */
#ifndef DSV32_BENCH_H
#define DSV32_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DSV32_BENCH_F32 0 /* f32 weights: the engine's dense (sgemm-like) path */
#define DSV32_BENCH_FP8 1 /* e4m3 weights + f32 128x128 block scales, dequantised on the fly (the checkpoint format) */
#define DSV32_BENCH_BF16 2

/* y[m, n] = x[m, k] W[n, k]^T through the engine's linear kernel (the active kernel path) on random data: the best
 * seconds per call over iters calls (after one warm-up call). 1 <= m <= 4096, 1 <= n <= 2^20, 1 <= k <= 65536, n * k <= 2^30, iters >= 1,
 * n_threads >= 0 (0 = all cores). */
int dsv32_bench_linear(int32_t dtype, int32_t m, int32_t n, int32_t k, int32_t n_threads, int32_t iters,
                       double* seconds_per_call);

/* Peak f32 FMA throughput of this CPU in GFLOP/s (2 flops per lane per FMA): independent FMA chains in registers on
 * n_threads threads (0 = all cores) with the widest vectors the CPU supports (AVX-512, AVX2+FMA, else scalar),
 * best of several runs of at least min_seconds each (> 0, <= 10); each thread is timed by its own CPU time, so the
 * peak is that of the cores while they run, whatever else the machine runs. */
int dsv32_bench_fma_peak(int32_t n_threads, double min_seconds, double* gflops);

/* The active kernel path's name ("scalar", "avx2", "avx512"). */
const char* dsv32_bench_kernel_path(void);

#ifdef __cplusplus
}
#endif

#endif /* DSV32_BENCH_H */
