/*
 * dsv32_bench.h: micro-benchmark entry points of the native core (benchmarks/ and `dsv32 bench report`), not part of
 * the engine's C API. Implemented in src/main/cpp/bench_api.cpp and src/main/cpp/bench/ (compiled into libdsv32).
 * Each returns DSV32_OK or DSV32_ERR_INVALID_ARGUMENT (the BLAS baseline also DSV32_ERR_UNAVAILABLE) with the reason
 * in dsv32_last_error().
 *
 * Each entry point keeps its synthetic data (and output buffers) while it is called again with the same shape, and
 * makes one untimed warm-up call only on new data: a harness calling it repeatedly (JMH with iters = 1) times the
 * kernel, not the data's generation. Calls of one entry point must not overlap (they share that data).
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
#define DSV32_BENCH_FP8_BF16X 3 /* the FP8 weights with x of bf16 values: the fp8 numerics' linear (AVX512-BF16 dot
                                 * products where the CPU has them, else the FP8 kernels) */

/* y[m, n] = x[m, k] W[n, k]^T through the engine's linear kernel (the active kernel path) on random data: the best
 * seconds per call over iters calls. 1 <= m <= 4096, 1 <= n <= 2^20, 1 <= k <= 65536, n * k <= 2^30, iters >= 1,
 * n_threads >= 0 (0 = all cores). */
int dsv32_bench_linear(int32_t dtype, int32_t m, int32_t n, int32_t k, int32_t n_threads, int32_t iters,
                       double* seconds_per_call);

/* The peer baseline: y = x W^T by a CBLAS library opened at run time (dlopen of $DSV32_BLAS_LIB, else
 * libopenblas.so.0, libopenblas.so, libcblas.so.3, libblas.so.3; libdsv32 never links one) on the same shapes, the
 * weights being the f32 dequantisation of the same kind of random FP8 block-scaled matrix dsv32_bench_linear uses:
 * DSV32_BENCH_F32 runs cblas_sgemv (m = 1) or cblas_sgemm, DSV32_BENCH_BF16 cblas_sbgemm (bf16 copies). Limits as
 * dsv32_bench_linear; DSV32_BENCH_FP8 is an argument error (no BLAS has it). DSV32_ERR_UNAVAILABLE with "not
 * available" and the reason when no library (or no sbgemm) is there. */
int dsv32_bench_blas_linear(int32_t dtype, int32_t m, int32_t n, int32_t k, int32_t n_threads, int32_t iters,
                            double* seconds_per_call);

/* 1 when dsv32_bench_blas_linear can run dtype here, else 0. */
int dsv32_bench_blas_available(int32_t dtype);

/* The baseline library ("OpenBLAS <build config> (libopenblas.so.0)"), or why there is none (every name tried). */
const char* dsv32_bench_blas_describe(void);

/* The DSA indexer of one decode query (architecture.md §7) over n_keys cached keys: scores
 * sum_h w_h ReLU(q_h . k_t) in 256-key chunks over the threads, then the top-k selection (none when n_keys <= topk,
 * as in the engine). Random q, w, keys. 1 <= n_heads <= 256, 1 <= head_dim <= 1024, 1 <= n_keys <= 2^20,
 * n_keys * head_dim <= 2^28, 1 <= topk <= 2^20. mini / 671B: 64 heads x 128, top-k 512 / 2048. */
int dsv32_bench_indexer(int32_t n_heads, int32_t head_dim, int32_t n_keys, int32_t topk, int32_t n_threads,
                        int32_t iters, double* seconds_per_call);

/* The absorbed sparse attention of one decode token (§6.3) over min(topk, n_keys) selected keys of n_keys cached
 * 512-wide latents + 64-wide RoPE keys: per head scores, softmax and the latent sum (the W_UK / W_UV
 * projections are not included), heads over the threads. 1 <= n_heads <= 256, 1 <= n_keys <= 2^19,
 * 1 <= topk <= 2^19. mini: 16 heads, top-k 512. */
int dsv32_bench_sparse_attention(int32_t n_heads, int32_t n_keys, int32_t topk, int32_t n_threads, int32_t iters,
                                 double* seconds_per_call);

/* An MoE layer (§8) on m tokens: bf16 gate [n_experts, dim] + bias, noaux_tc routing (n_groups groups, best
 * topk_groups kept, n_active experts per token, route scale 2.5), one shared and the routed SwiGLU experts with FP8
 * [inter, dim] / [dim, inter] weights (routed experts one per thread, as the engine). 1 <= m <= 4096,
 * 1 <= dim <= 16384, 1 <= n_experts <= 1024, n_groups divides n_experts, 1 <= topk_groups <= n_groups,
 * 1 <= n_active <= topk_groups * n_experts / n_groups, 1 <= inter <= 65536, (n_experts + 1) * 3 * dim * inter
 * <= 2^31. mini: dim 1024, 64 experts in 8 groups, top-4 groups, 8 active, inter 256. */
int dsv32_bench_moe(int32_t m, int32_t dim, int32_t n_experts, int32_t n_groups, int32_t topk_groups, int32_t n_active,
                    int32_t inter, int32_t n_threads, int32_t iters, double* seconds_per_call);

/* Peak f32 FMA throughput of this CPU in GFLOP/s (2 flops per lane per FMA): independent FMA chains in registers on
 * n_threads threads (0 = all cores) with the widest vectors the CPU supports (AVX-512, AVX2+FMA, else scalar),
 * best of several runs of at least min_seconds each (> 0, <= 10); each thread is timed by its own CPU time, so the
 * peak is that of the cores while they run, whatever else the machine runs. */
int dsv32_bench_fma_peak(int32_t n_threads, double min_seconds, double* gflops);

/* The active kernel path's name ("scalar", "avx2", "avx512"). */
const char* dsv32_bench_kernel_path(void);

/* That path and what takes its products of bf16 values (the fp8 numerics', the bf16 head's): "avx512 + AMX (bf16
 * products)", "avx512 + AVX512-BF16 (bf16 products)", else the path's name alone. */
const char* dsv32_bench_cpu_kernels(void);

#ifdef __cplusplus
}
#endif

#endif /* DSV32_BENCH_H */
