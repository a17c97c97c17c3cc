// linear_avx512.cpp: AVX-512 (F/BW/VL) row kernel of kernels::linear. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx2 -mfma -mf16c (CMakeLists.txt); called only when the CPU has them. Reference:
// linear_rows_scalar in linear.cpp (test_kernels compares every path against it).
// The FP8 / BF16 element conversions are in convert_avx512.h.
#include <immintrin.h>

#include <algorithm>

#include <cstdint>

#include "kernels/convert_avx512.h"
#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

namespace {

// Small constant loops of the batched kernels: unrolled so that accumulators and x vectors stay in registers (-O2
// does not unroll them by itself).
#define DSV32_UNROLL _Pragma("GCC unroll 8")

// Row stride of w's data in elements (WeightMat::stride(), written out here: an inline function of the header
// compiled in this TU with its -m flags could be the copy the linker keeps for baseline callers).
inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

// out[0..K) = dequantised row n (exact: the values dequant_row gives).
void deq_row(const WeightMat& w, int n, float* out) {
    const int K = w.in;
    int k = 0;
    if (w.type == WType::BF16) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
        for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, bf16x16(p + 2 * size_t(k)));
    } else {
        const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
        for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, _mm512_loadu_ps(p + k));
    }
    if (k < K) dequant_row(w, n, k, K - k, out + k);
}

// s += x[k..K) . W[n, k..K) with the scalar reference dequantisation, in chunks of 128: the tail of a row whose K is
// not a multiple of the vector / FP8 block width. Shared by the M == 1 and M > 1 paths (same arithmetic).
inline float tail(const float* x, const WeightMat& w, int n, int k, float s) {
    float t[128];
    const int K = w.in;
    while (k < K) {
        const int len = K - k < 128 ? K - k : 128;
        dequant_row(w, n, k, len, t);
        for (int i = 0; i < len; ++i) s += x[k + i] * t[i];
        k += len;
    }
    return s;
}

// Decode (M == 1): y[n] = W[n, :] . x straight from the stored bytes, no scratch. FP8: per 128-block the codes'
// f16 values are accumulated, then scaled by scale * 256 once per block (exact for ue8m0 power-of-two scales).
void gemv_rows(const float* x, const WeightMat& w, float* y, int n0, int n1) {
    const int K = w.in;
    for (int n = n0; n < n1; ++n) {
        float s = 0;
        int k = 0;
        if (w.type == WType::FP8) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
            const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
            __m512 tot = _mm512_setzero_ps();
            const uint8_t* end = static_cast<const uint8_t*>(w.data) + size_t(w.out) * row_stride(w);
            for (; k + 128 <= K; k += 128) {
                prefetch_stream(p + k, end);  // convert_avx512.h
                prefetch_stream(p + k + 64, end);
                __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
                DSV32_UNROLL
                for (int j = 0; j < 128; j += 32) {
                    __m512 lo, hi;
                    fp8x32(p + k + j, &lo, &hi);
                    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + j), lo, a0);
                    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + j + 16), hi, a1);
                }
                tot = _mm512_fmadd_ps(_mm512_add_ps(a0, a1), _mm512_set1_ps(srow[k / 128] * 256.0f), tot);
            }
            s = _mm512_reduce_add_ps(tot);
        } else if (w.type == WType::BF16) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
            const uint8_t* ahead = p + 2 * 8 * row_stride(w);
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (; k + 32 <= K; k += 32) {
                _mm_prefetch(reinterpret_cast<const char*>(ahead + 2 * size_t(k)), _MM_HINT_T0);
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), bf16x16(p + 2 * size_t(k)), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), bf16x16(p + 2 * size_t(k) + 32), a1);
            }
            s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        } else {
            const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (; k + 32 <= K; k += 32) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(p + k), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(p + k + 16), a1);
            }
            s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        }
        y[n] = k < K ? tail(x, w, n, k, s) : s;  // tail: K not a multiple of the block
    }
}

// Batched (M > 1). Each weight row / 128-block is converted once per tile of up to 4 rows of W and applied to every
// row of x, and every (m, n) is accumulated in exactly the order gemv_rows uses for M == 1 (same chains, same
// promotion, same reduction), so row m of y is bitwise the same whatever M is: batching does not change answers.

// FP8: the R rows of W [n, n + R) become f16-domain floats in scratch, whole (as gemv_rows converts them), then the
// rows [mb0, mb1) of x are taken two at a time, with all 2R block totals in registers over K: per 32 columns 4 x and
// 2R w loads feed 4R fused multiply-adds, and nothing is stored until the end. (Before: per 128-block the converted
// codes, then every row of x with its totals read and written in scratch: about 80 GFLOP/s a core on the 2-vCPU box,
// 2 * R * 16 + 4 memory operations per 16 R fused multiply-adds.) The caller walks the rows of x in blocks of
// x_block_rows(K) outermost, so one block of x stays in L2 while every row of W in the task uses it; each block
// converts the task's rows of W again, so the larger the block the fewer conversions: about 512 KB of x (128 rows at
// K = 1024, where 128 rows ran a 512 x 1024 x 1024 GEMM 4-7 % faster than 32 did, at most 128, at least 32).
inline int x_block_rows(int K) { return std::max(32, std::min(128, (131072 / std::max(1, K)) & ~1)); }

template <int R>
void fp8_rows(const float* x, const WeightMat& w, float* y, int mb0, int mb1, int n, float* scratch) {
    const int K = w.in, N = w.out, KB = K / 128 * 128, ld = KB + 16;  // ld: rows of scratch off the same L1 sets
    const float* srow[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) {
        srow[r] = w.scale + size_t((n + r) / 128) * size_t(w.scale_cols);
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n + r) * row_stride(w);
        float* o = scratch + size_t(r) * size_t(ld);
        for (int k = 0; k < KB; k += 32) {
            __m512 lo, hi;
            fp8x32(p + k, &lo, &hi);
            _mm512_store_ps(o + k, lo);
            _mm512_store_ps(o + k + 16, hi);
        }
    }
    int m = mb0;
    for (; m + 2 <= mb1; m += 2) {
        const float* x0 = x + size_t(m) * size_t(K);
        const float* x1 = x0 + size_t(K);
        __m512 t0[R], t1[R];
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) t0[r] = t1[r] = _mm512_setzero_ps();
        for (int k = 0; k < KB; k += 128) {
            __m512 a0[2][R], a1[2][R];
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) a0[0][r] = a1[0][r] = a0[1][r] = a1[1][r] = _mm512_setzero_ps();
            DSV32_UNROLL
            for (int j = k; j < k + 128; j += 32) {
                const __m512 x0a = _mm512_loadu_ps(x0 + j), x0b = _mm512_loadu_ps(x0 + j + 16);
                const __m512 x1a = _mm512_loadu_ps(x1 + j), x1b = _mm512_loadu_ps(x1 + j + 16);
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) {
                    const float* wr = scratch + size_t(r) * size_t(ld) + j;
                    const __m512 wa = _mm512_load_ps(wr), wb = _mm512_load_ps(wr + 16);
                    a0[0][r] = _mm512_fmadd_ps(x0a, wa, a0[0][r]);
                    a1[0][r] = _mm512_fmadd_ps(x0b, wb, a1[0][r]);
                    a0[1][r] = _mm512_fmadd_ps(x1a, wa, a0[1][r]);
                    a1[1][r] = _mm512_fmadd_ps(x1b, wb, a1[1][r]);
                }
            }
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                const __m512 s = _mm512_set1_ps(srow[r][k / 128] * 256.0f);
                t0[r] = _mm512_fmadd_ps(_mm512_add_ps(a0[0][r], a1[0][r]), s, t0[r]);
                t1[r] = _mm512_fmadd_ps(_mm512_add_ps(a0[1][r], a1[1][r]), s, t1[r]);
            }
        }
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            const float s0 = _mm512_reduce_add_ps(t0[r]), s1 = _mm512_reduce_add_ps(t1[r]);
            y[size_t(m) * size_t(N) + size_t(n + r)] = KB < K ? tail(x0, w, n + r, KB, s0) : s0;
            y[size_t(m + 1) * size_t(N) + size_t(n + r)] = KB < K ? tail(x1, w, n + r, KB, s1) : s1;
        }
    }
    for (; m < mb1; ++m) {  // an odd last row: the same chains
        const float* xr = x + size_t(m) * size_t(K);
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            const float* wr = scratch + size_t(r) * size_t(ld);
            __m512 t = _mm512_setzero_ps();
            for (int k = 0; k < KB; k += 128) {
                __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
                DSV32_UNROLL
                for (int j = k; j < k + 128; j += 32) {
                    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + j), _mm512_load_ps(wr + j), a0);
                    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + j + 16), _mm512_load_ps(wr + j + 16), a1);
                }
                t = _mm512_fmadd_ps(_mm512_add_ps(a0, a1), _mm512_set1_ps(srow[r][k / 128] * 256.0f), t);
            }
            const float s = _mm512_reduce_add_ps(t);
            y[size_t(m) * size_t(N) + size_t(n + r)] = KB < K ? tail(xr, w, n + r, KB, s) : s;
        }
    }
}

// F32 (BF16 has bf16_rows below): the tile's rows used in place; per row of x the two chains of gemv_rows over
// 32-wide steps.
template <int R>
void dense_rows(const float* x, const WeightMat& w, float* y, int M, int n, float* scratch) {
    const int K = w.in, N = w.out, K32 = K & ~31, ld = (K + 15) & ~15;
    const float* rows[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) {
        if (w.type == WType::F32) {
            rows[r] = static_cast<const float*>(w.data) + size_t(n + r) * row_stride(w);
        } else {
            deq_row(w, n + r, scratch + size_t(r) * ld);
            rows[r] = scratch + size_t(r) * ld;
        }
    }
    for (int m = 0; m < M; ++m) {
        const float* xr = x + size_t(m) * size_t(K);
        __m512 a0[R], a1[R];
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) a0[r] = a1[r] = _mm512_setzero_ps();
        for (int k = 0; k < K32; k += 32) {
            const __m512 xa = _mm512_loadu_ps(xr + k), xb = _mm512_loadu_ps(xr + k + 16);
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                a0[r] = _mm512_fmadd_ps(xa, _mm512_loadu_ps(rows[r] + k), a0[r]);
                a1[r] = _mm512_fmadd_ps(xb, _mm512_loadu_ps(rows[r] + k + 16), a1[r]);
            }
        }
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            const float s = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));
            y[size_t(m) * size_t(N) + size_t(n + r)] = K32 < K ? tail(xr, w, n + r, K32, s) : s;
        }
    }
}

// BF16, M > 1: row n converted 32 columns at a time in registers and applied to MG rows of x [m0, m0 + MG) (up to 8:
// 16 accumulators), each (m, n) with gemv_rows' two chains in its order. No dequantised copy of the row is stored
// (the batched decode's 129280-row head would write twice the bytes it reads).
template <int MG>
void bf16_rows(const float* x, const WeightMat& w, float* y, int m0, int n) {
    const int K = w.in, N = w.out, K32 = K & ~31;
    const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
    const uint8_t* ahead = p + 2 * 8 * row_stride(w);  // as gemv_rows
    __m512 a0[MG], a1[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) a0[m] = a1[m] = _mm512_setzero_ps();
    for (int k = 0; k < K32; k += 32) {
        _mm_prefetch(reinterpret_cast<const char*>(ahead + 2 * size_t(k)), _MM_HINT_T0);
        const __m512 wa = bf16x16(p + 2 * size_t(k)), wb = bf16x16(p + 2 * size_t(k) + 32);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const float* xr = x + size_t(m0 + m) * size_t(K) + k;
            a0[m] = _mm512_fmadd_ps(_mm512_loadu_ps(xr), wa, a0[m]);
            a1[m] = _mm512_fmadd_ps(_mm512_loadu_ps(xr + 16), wb, a1[m]);
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        const float s = _mm512_reduce_add_ps(_mm512_add_ps(a0[m], a1[m]));
        const float* xr = x + size_t(m0 + m) * size_t(K);
        y[size_t(m0 + m) * size_t(N) + size_t(n)] = K32 < K ? tail(xr, w, n, K32, s) : s;
    }
}

// FP8, small M (decode batches): row n's codes converted in registers, 32 at a time, and applied to MG rows of x
// [m0, m0 + MG) (up to 8), each (m, n) with gemv_rows' chains, block promotion and reduction in its order. The packed
// kernel (fp8_rows) pays a store and reload of every converted block, which only many rows of x amortise.
template <int MG>
void fp8_rows_small(const float* x, const WeightMat& w, float* y, int m0, int n) {
    const int K = w.in, N = w.out, KB = K / 128 * 128;
    const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
    const uint8_t* end = static_cast<const uint8_t*>(w.data) + size_t(w.out) * row_stride(w);
    const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
    __m512 tot[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) tot[m] = _mm512_setzero_ps();
    for (int k = 0; k < KB; k += 128) {
        prefetch_stream(p + k, end);  // as gemv_rows
        prefetch_stream(p + k + 64, end);
        __m512 a0[MG], a1[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) a0[m] = a1[m] = _mm512_setzero_ps();
        DSV32_UNROLL
        for (int j = 0; j < 128; j += 32) {
            __m512 lo, hi;
            fp8x32(p + k + j, &lo, &hi);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                const float* xr = x + size_t(m0 + m) * size_t(K) + k + j;
                a0[m] = _mm512_fmadd_ps(_mm512_loadu_ps(xr), lo, a0[m]);
                a1[m] = _mm512_fmadd_ps(_mm512_loadu_ps(xr + 16), hi, a1[m]);
            }
        }
        const __m512 sc = _mm512_set1_ps(srow[k / 128] * 256.0f);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) tot[m] = _mm512_fmadd_ps(_mm512_add_ps(a0[m], a1[m]), sc, tot[m]);
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        const float s = _mm512_reduce_add_ps(tot[m]);
        const float* xr = x + size_t(m0 + m) * size_t(K);
        y[size_t(m0 + m) * size_t(N) + size_t(n)] = KB < K ? tail(xr, w, n, KB, s) : s;
    }
}

// Rows n and n + 1 of W against rows [m0, m0 + MG) of x (MG <= 4: 4 * MG chains, 2 * MG totals and the two rows'
// converted chunks in the 32 registers), each x vector loaded once for both rows: fp8_rows_small's arithmetic for each
// output, bitwise. fp8_rows_small loads x once per multiply-add, which bound it at M = 4 (f32 numerics' batch-4 decode
// projections: about 74 cycles per 128 weights of a row against 32 for its multiply-adds).
template <int MG>
void fp8_rows_pair(const float* x, const WeightMat& w, float* y, int m0, int n) {
    const int K = w.in, N = w.out, KB = K / 128 * 128;
    const Fp8RowPair rows = fp8_row_pair(w, n);  // convert_avx512.h
    const uint8_t *pa = rows.a, *pb = rows.b;
    const float *sa = rows.sa, *sb = rows.sb;
    __m512 ta[MG], tb[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) ta[m] = tb[m] = _mm512_setzero_ps();
    for (int k = 0; k < KB; k += 128) {
        prefetch_row_pair(rows, k);  // convert_avx512.h
        __m512 a0[MG], a1[MG], b0[MG], b1[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) a0[m] = a1[m] = b0[m] = b1[m] = _mm512_setzero_ps();
        DSV32_UNROLL
        for (int j = 0; j < 128; j += 32) {
            __m512 alo, ahi, blo, bhi;
            fp8x32(pa + k + j, &alo, &ahi);
            fp8x32(pb + k + j, &blo, &bhi);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                const float* xr = x + size_t(m0 + m) * size_t(K) + k + j;
                const __m512 x0 = _mm512_loadu_ps(xr), x1 = _mm512_loadu_ps(xr + 16);
                a0[m] = _mm512_fmadd_ps(x0, alo, a0[m]);
                a1[m] = _mm512_fmadd_ps(x1, ahi, a1[m]);
                b0[m] = _mm512_fmadd_ps(x0, blo, b0[m]);
                b1[m] = _mm512_fmadd_ps(x1, bhi, b1[m]);
            }
        }
        const __m512 sca = _mm512_set1_ps(sa[k / 128] * 256.0f), scb = _mm512_set1_ps(sb[k / 128] * 256.0f);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            ta[m] = _mm512_fmadd_ps(_mm512_add_ps(a0[m], a1[m]), sca, ta[m]);
            tb[m] = _mm512_fmadd_ps(_mm512_add_ps(b0[m], b1[m]), scb, tb[m]);
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        const float* xr = x + size_t(m0 + m) * size_t(K);
        const float s0 = _mm512_reduce_add_ps(ta[m]), s1 = _mm512_reduce_add_ps(tb[m]);
        y[size_t(m0 + m) * size_t(N) + size_t(n)] = KB < K ? tail(xr, w, n, KB, s0) : s0;
        y[size_t(m0 + m) * size_t(N) + size_t(n + 1)] = KB < K ? tail(xr, w, n + 1, KB, s1) : s1;
    }
}

// Rows [n0, n1) of W against rows [m0, m0 + mg) of x with one of the register-blocked row kernels (mg <= 8).
template <template <int> class Kernel>
void small_m(const float* x, const WeightMat& w, float* y, int M, int n0, int n1) {
    for (int n = n0; n < n1; ++n)
        for (int m0 = 0; m0 < M; m0 += 8) {
            switch (M - m0 < 8 ? M - m0 : 8) {
                case 8: Kernel<8>::run(x, w, y, m0, n); break;
                case 7: Kernel<7>::run(x, w, y, m0, n); break;
                case 6: Kernel<6>::run(x, w, y, m0, n); break;
                case 5: Kernel<5>::run(x, w, y, m0, n); break;
                case 4: Kernel<4>::run(x, w, y, m0, n); break;
                case 3: Kernel<3>::run(x, w, y, m0, n); break;
                case 2: Kernel<2>::run(x, w, y, m0, n); break;
                default: Kernel<1>::run(x, w, y, m0, n); break;
            }
        }
}
template <int MG>
struct Fp8Small {
    static void run(const float* x, const WeightMat& w, float* y, int m0, int n) { fp8_rows_small<MG>(x, w, y, m0, n); }
};
template <int MG>
struct Bf16Rows {
    static void run(const float* x, const WeightMat& w, float* y, int m0, int n) { bf16_rows<MG>(x, w, y, m0, n); }
};

// Up to this many rows of x the FP8 kernel converts in registers (fp8_rows_small), above it packs (fp8_rows).
constexpr int FP8_SMALL_M = 16;

}  // namespace

void linear_rows_avx512(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch) {
    if (M == 1) {
        gemv_rows(x, w, y, n0, n1);
        return;
    }
    if (w.type == WType::FP8 && M <= 4) {  // decode batches: two rows of W a pass
        int n = n0;
        for (; n + 2 <= n1; n += 2) {
            switch (M) {
                case 4: fp8_rows_pair<4>(x, w, y, 0, n); break;
                case 3: fp8_rows_pair<3>(x, w, y, 0, n); break;
                default: fp8_rows_pair<2>(x, w, y, 0, n); break;
            }
        }
        if (n < n1) small_m<Fp8Small>(x, w, y, M, n, n1);
        return;
    }
    if (w.type == WType::FP8 && M <= FP8_SMALL_M) {
        small_m<Fp8Small>(x, w, y, M, n0, n1);
        return;
    }
    if (w.type == WType::FP8) {
        const int MB = x_block_rows(w.in);
        for (int m0 = 0; m0 < M; m0 += MB) {
            const int m1 = M - m0 < MB ? M : m0 + MB;
            for (int n = n0; n < n1; n += 4) {
                switch (n1 - n < 4 ? n1 - n : 4) {
                    case 4: fp8_rows<4>(x, w, y, m0, m1, n, scratch); break;
                    case 3: fp8_rows<3>(x, w, y, m0, m1, n, scratch); break;
                    case 2: fp8_rows<2>(x, w, y, m0, m1, n, scratch); break;
                    default: fp8_rows<1>(x, w, y, m0, m1, n, scratch); break;
                }
            }
        }
        return;
    }
    if (w.type == WType::BF16) {
        small_m<Bf16Rows>(x, w, y, M, n0, n1);
        return;
    }
    for (int n = n0; n < n1; n += 4) {
        switch (n1 - n < 4 ? n1 - n : 4) {
            case 4: dense_rows<4>(x, w, y, M, n, scratch); break;
            case 3: dense_rows<3>(x, w, y, M, n, scratch); break;
            case 2: dense_rows<2>(x, w, y, M, n, scratch); break;
            default: dense_rows<1>(x, w, y, M, n, scratch); break;
        }
    }
}

float dot_avx512(const float* a, const float* b, int n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= n) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        i += 16;
    }
    float r = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; ++i) r += a[i] * b[i];
    return r;
}

void axpy_avx512(float a, const float* x, float* y, int n) {
    const __m512 av = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace kernels
}  // namespace dsv32
