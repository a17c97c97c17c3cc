// linear_avx512.cpp: AVX-512 (F/BW/VL) row kernel of kernels::linear. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx2 -mfma -mf16c (CMakeLists.txt); called only when the CPU has them. Reference:
// linear_rows_scalar in linear.cpp (test_kernels compares every path against it).
// The FP8 / BF16 element conversions are in convert_avx512.h.
#include <immintrin.h>

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
            const uint8_t* ahead = p + 8 * row_stride(w);  // 8 rows on: more lines in flight than one core's stream has
            for (; k + 128 <= K; k += 128) {
                _mm_prefetch(reinterpret_cast<const char*>(ahead + k), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(ahead + k + 64), _MM_HINT_T0);
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

// FP8: per 128-block of K the codes of the tile's rows become f16-domain floats in scratch (as gemv_rows converts
// them); x rows [mb0, mb1) are taken MB at a time, their per-(m, row) block totals kept in scratch. The caller walks
// the rows of x in MB blocks outermost, so one block of x stays in L1/L2 while every row of W in the task uses it.
constexpr int MB = 32;

template <int R>
void fp8_rows(const float* x, const WeightMat& w, float* y, int M, int mb0, int mb1, int n, float* scratch,
              const float* xpk) {
    const int K = w.in, N = w.out, KB = K / 128 * 128;
    float* wsc = scratch;                                      // [R][128]
    __m512* tot = reinterpret_cast<__m512*>(scratch + 4 * 128);  // [MB][R]
    const float* srow[R];
    const uint8_t* prow[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) {
        srow[r] = w.scale + size_t((n + r) / 128) * size_t(w.scale_cols);
        prow[r] = static_cast<const uint8_t*>(w.data) + size_t(n + r) * row_stride(w);
    }
    for (int m0 = mb0; m0 < mb1; m0 += MB) {
        const int mc = mb1 - m0 < MB ? mb1 - m0 : MB;
        for (int i = 0; i < mc * R; ++i) tot[i] = _mm512_setzero_ps();
        for (int k = 0; k < KB; k += 128) {
            __m512 s[R];
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                DSV32_UNROLL
                for (int j = 0; j < 128; j += 32) {
                    __m512 lo, hi;
                    fp8x32(prow[r] + k + j, &lo, &hi);
                    _mm512_store_ps(wsc + r * 128 + j, lo);
                    _mm512_store_ps(wsc + r * 128 + j + 16, hi);
                }
                s[r] = _mm512_set1_ps(srow[r][k / 128] * 256.0f);
            }
            // Two rows of x per pass (4 x and 2R w loads feed 4R fused multiply-adds per 32 columns); an odd last row
            // alone. Either way every (m, r) keeps gemv_rows' two chains in its order.
            auto xrow = [&](int m) {
                return xpk ? xpk + (size_t(k / 128) * size_t(M) + size_t(m0 + m)) * 128 : x + size_t(m0 + m) * size_t(K) + k;
            };
            int m = 0;
            for (; m + 2 <= mc; m += 2) {
                const float* x0 = xrow(m);
                const float* x1 = xrow(m + 1);
                __m512 a0[2][R], a1[2][R];
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) a0[0][r] = a1[0][r] = a0[1][r] = a1[1][r] = _mm512_setzero_ps();
                DSV32_UNROLL
                for (int j = 0; j < 4; ++j) {
                    const __m512 x0a = _mm512_loadu_ps(x0 + 32 * j), x0b = _mm512_loadu_ps(x0 + 32 * j + 16);
                    const __m512 x1a = _mm512_loadu_ps(x1 + 32 * j), x1b = _mm512_loadu_ps(x1 + 32 * j + 16);
                    DSV32_UNROLL
                    for (int r = 0; r < R; ++r) {
                        const __m512 wa = _mm512_load_ps(wsc + r * 128 + 32 * j), wb = _mm512_load_ps(wsc + r * 128 + 32 * j + 16);
                        a0[0][r] = _mm512_fmadd_ps(x0a, wa, a0[0][r]);
                        a1[0][r] = _mm512_fmadd_ps(x0b, wb, a1[0][r]);
                        a0[1][r] = _mm512_fmadd_ps(x1a, wa, a0[1][r]);
                        a1[1][r] = _mm512_fmadd_ps(x1b, wb, a1[1][r]);
                    }
                }
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) {
                    tot[m * R + r] = _mm512_fmadd_ps(_mm512_add_ps(a0[0][r], a1[0][r]), s[r], tot[m * R + r]);
                    tot[(m + 1) * R + r] = _mm512_fmadd_ps(_mm512_add_ps(a0[1][r], a1[1][r]), s[r], tot[(m + 1) * R + r]);
                }
            }
            for (; m < mc; ++m) {
                const float* xb = xrow(m);
                __m512 xv[8];
                DSV32_UNROLL
                for (int i = 0; i < 8; ++i) xv[i] = _mm512_loadu_ps(xb + 16 * i);
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) {
                    const float* wr = wsc + r * 128;
                    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
                    DSV32_UNROLL
                    for (int j = 0; j < 4; ++j) {
                        a0 = _mm512_fmadd_ps(xv[2 * j], _mm512_load_ps(wr + 32 * j), a0);
                        a1 = _mm512_fmadd_ps(xv[2 * j + 1], _mm512_load_ps(wr + 32 * j + 16), a1);
                    }
                    tot[m * R + r] = _mm512_fmadd_ps(_mm512_add_ps(a0, a1), s[r], tot[m * R + r]);
                }
            }
        }
        for (int m = 0; m < mc; ++m) {
            const float* xr = x + size_t(m0 + m) * size_t(K);
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                const float s = _mm512_reduce_add_ps(tot[m * R + r]);
                y[size_t(m0 + m) * size_t(N) + size_t(n + r)] = KB < K ? tail(xr, w, n + r, KB, s) : s;
            }
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
    const uint8_t* ahead = p + 8 * row_stride(w);  // as gemv_rows
    const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
    __m512 tot[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) tot[m] = _mm512_setzero_ps();
    for (int k = 0; k < KB; k += 128) {
        _mm_prefetch(reinterpret_cast<const char*>(ahead + k), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(ahead + k + 64), _MM_HINT_T0);
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

void pack_x_blocks(const float* x, int M, int K, float* out) {
    const int KB = K / 128;
    for (int b = 0; b < KB; ++b)
        for (int m = 0; m < M; ++m) {
            const float* src = x + size_t(m) * size_t(K) + size_t(b) * 128;
            float* dst = out + (size_t(b) * size_t(M) + size_t(m)) * 128;
            for (int i = 0; i < 128; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
        }
}

void linear_rows_avx512(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch, const float* xpk) {
    if (M == 1) {
        gemv_rows(x, w, y, n0, n1);
        return;
    }
    if (w.type == WType::FP8 && M <= FP8_SMALL_M) {
        small_m<Fp8Small>(x, w, y, M, n0, n1);
        return;
    }
    if (w.type == WType::FP8) {
        for (int m0 = 0; m0 < M; m0 += MB) {
            const int m1 = M - m0 < MB ? M : m0 + MB;
            for (int n = n0; n < n1; n += 4) {
                switch (n1 - n < 4 ? n1 - n : 4) {
                    case 4: fp8_rows<4>(x, w, y, M, m0, m1, n, scratch, xpk); break;
                    case 3: fp8_rows<3>(x, w, y, M, m0, m1, n, scratch, xpk); break;
                    case 2: fp8_rows<2>(x, w, y, M, m0, m1, n, scratch, xpk); break;
                    default: fp8_rows<1>(x, w, y, M, m0, m1, n, scratch, xpk); break;
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
