// linear_avx2.cpp: AVX2+FMA+F16C row kernel of kernels::linear. Compiled with -mavx2 -mfma -mf16c
// (CMakeLists.txt); called only when the CPU has them. Reference: linear_rows_scalar in linear.cpp (test_kernels
// compares every path against it). e4m3 -> f32 via f16 exactly as in linear_avx512.cpp (see there).
#include <immintrin.h>

#include <cstdint>

#include "kernels/linear_isa.h"
#include "kernels/reduce_avx2.h"

namespace dsv32 {
namespace kernels {

namespace {

// Small constant loops of the batched kernels: unrolled so that accumulators and x vectors stay in registers (-O2
// does not unroll them by itself).
#define DSV32_UNROLL _Pragma("GCC unroll 8")

// Row stride of w's data in elements (WeightMat::stride(), written out here: an inline function of the header
// compiled in this TU with its -m flags could be the copy the linker keeps for baseline callers).
inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

inline __m256 bf16x8(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

// out[0..K) = dequantised row n of a BF16 / F32 matrix (exact: the values dequant_row gives).
void deq_row(const WeightMat& w, int n, float* out) {
    const int K = w.in;
    int k = 0;
    if (w.type == WType::BF16) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(out + k, bf16x8(p + 2 * size_t(k)));
    } else {
        const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(out + k, _mm256_loadu_ps(p + k));
    }
    if (k < K) dequant_row(w, n, k, K - k, out + k);
}

// s += x[k..K) . W[n, k..K) with the scalar reference dequantisation, in chunks of 128 (the tail of a row whose K
// is not a multiple of the vector / FP8 block width); shared by the M == 1 and M > 1 paths.
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

// 16 e4m3 codes -> two f16-domain f32 vectors (value * 2^-8, exact), as convert_avx512.h's fp8x32: the byte
// sign-extended to 16 bits and shifted left by 7 holds the sign at bit 15 and the magnitude at bits 7..13, with a
// copy of the sign at bit 14 that the mask clears (2 integer operations after the widening, instead of 5).
inline void fp8x16(const uint8_t* p, __m256* lo, __m256* hi) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i h = _mm256_and_si256(_mm256_slli_epi16(v, 7), _mm256_set1_epi16(short(0xBF80)));
    *lo = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
    *hi = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
}

// Decode (M == 1): as gemv_rows in linear_avx512.cpp.
void gemv_rows(const float* x, const WeightMat& w, float* y, int n0, int n1) {
    const int K = w.in;
    for (int n = n0; n < n1; ++n) {
        float s = 0;
        int k = 0;
        if (w.type == WType::FP8) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
            const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
            __m256 tot = _mm256_setzero_ps();
            for (; k + 128 <= K; k += 128) {
                __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
                for (int j = 0; j < 128; j += 16) {
                    __m256 lo, hi;
                    fp8x16(p + k + j, &lo, &hi);
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + j), lo, a0);
                    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + j + 8), hi, a1);
                }
                tot = _mm256_fmadd_ps(_mm256_add_ps(a0, a1), _mm256_set1_ps(srow[k / 128] * 256.0f), tot);
            }
            s = hsum(tot);
        } else if (w.type == WType::BF16) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            for (; k + 16 <= K; k += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), bf16x8(p + 2 * size_t(k)), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), bf16x8(p + 2 * size_t(k) + 16), a1);
            }
            s = hsum(_mm256_add_ps(a0, a1));
        } else {
            const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            for (; k + 16 <= K; k += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(p + k), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), _mm256_loadu_ps(p + k + 8), a1);
            }
            s = hsum(_mm256_add_ps(a0, a1));
        }
        y[n] = k < K ? tail(x, w, n, k, s) : s;  // tail: K not a multiple of the block
    }
}

// Batched (M > 1), as in linear_avx512.cpp: each weight 128-block (FP8) or row (BF16 / F32) is converted once per
// tile of up to 4 rows of W and applied to every row of x, accumulated in exactly gemv_rows' order, so row m of y
// is bitwise the same whatever M is.
constexpr int MB = 32;  // x rows per pass over K (FP8): their per-(m, row) block totals live in scratch

template <int R>
void fp8_rows(const float* x, const WeightMat& w, float* y, int M, int n, float* scratch) {
    const int K = w.in, N = w.out, KB = K / 128 * 128;
    float* wsc = scratch;                                      // [R][128] f16-domain values of the block's codes
    __m256* tot = reinterpret_cast<__m256*>(scratch + 4 * 128);  // [MB][R]
    const float* srow[R];
    const uint8_t* prow[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) {
        srow[r] = w.scale + size_t((n + r) / 128) * size_t(w.scale_cols);
        prow[r] = static_cast<const uint8_t*>(w.data) + size_t(n + r) * row_stride(w);
    }
    for (int m0 = 0; m0 < M; m0 += MB) {
        const int mc = M - m0 < MB ? M - m0 : MB;
        for (int i = 0; i < mc * R; ++i) tot[i] = _mm256_setzero_ps();
        for (int k = 0; k < KB; k += 128) {
            __m256 s[R];
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                DSV32_UNROLL
                for (int j = 0; j < 128; j += 16) {
                    __m256 lo, hi;
                    fp8x16(prow[r] + k + j, &lo, &hi);
                    _mm256_store_ps(wsc + r * 128 + j, lo);
                    _mm256_store_ps(wsc + r * 128 + j + 8, hi);
                }
                s[r] = _mm256_set1_ps(srow[r][k / 128] * 256.0f);
            }
            for (int m = 0; m < mc; ++m) {
                const float* xb = x + size_t(m0 + m) * size_t(K) + k;
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) {
                    const float* wr = wsc + r * 128;
                    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
                    DSV32_UNROLL
                    for (int j = 0; j < 128; j += 16) {
                        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xb + j), _mm256_load_ps(wr + j), a0);
                        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xb + j + 8), _mm256_load_ps(wr + j + 8), a1);
                    }
                    tot[m * R + r] = _mm256_fmadd_ps(_mm256_add_ps(a0, a1), s[r], tot[m * R + r]);
                }
            }
        }
        for (int m = 0; m < mc; ++m) {
            const float* xr = x + size_t(m0 + m) * size_t(K);
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                const float s = hsum(tot[m * R + r]);
                y[size_t(m0 + m) * size_t(N) + size_t(n + r)] = KB < K ? tail(xr, w, n + r, KB, s) : s;
            }
        }
    }
}

template <int R>
void dense_rows(const float* x, const WeightMat& w, float* y, int M, int n, float* scratch) {
    const int K = w.in, N = w.out, K16 = K & ~15, ld = (K + 15) & ~15;
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
        __m256 a0[R], a1[R];
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) a0[r] = a1[r] = _mm256_setzero_ps();
        for (int k = 0; k < K16; k += 16) {
            const __m256 xa = _mm256_loadu_ps(xr + k), xb = _mm256_loadu_ps(xr + k + 8);
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                a0[r] = _mm256_fmadd_ps(xa, _mm256_loadu_ps(rows[r] + k), a0[r]);
                a1[r] = _mm256_fmadd_ps(xb, _mm256_loadu_ps(rows[r] + k + 8), a1[r]);
            }
        }
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            const float s = hsum(_mm256_add_ps(a0[r], a1[r]));
            y[size_t(m) * size_t(N) + size_t(n + r)] = K16 < K ? tail(xr, w, n + r, K16, s) : s;
        }
    }
}

// Small M (decode batches): row n of W converted in registers and applied to the MG rows [m0, m0 + MG) of x, each
// (m, n) with gemv_rows' chains, block scaling and reduction in its order (so row m's bits are those of M == 1). The
// batched kernels above store the converted weights and the block totals and reload them per row of x, which only
// many rows amortise: at batch 4 they made mini's head and FP8 projections on this path about 3x the batch-1 time.
template <int MG>
void rows_small(const float* x, const WeightMat& w, float* y, int m0, int n) {
    const int K = w.in, N = w.out;
    const float* xr[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) xr[m] = x + size_t(m0 + m) * size_t(K);
    float s[MG];
    int k = 0;
    if (w.type == WType::FP8) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
        const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
        __m256 tot[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) tot[m] = _mm256_setzero_ps();
        for (; k + 128 <= K; k += 128) {
            __m256 a0[MG], a1[MG];
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) a0[m] = a1[m] = _mm256_setzero_ps();
            DSV32_UNROLL
            for (int j = 0; j < 128; j += 16) {
                __m256 lo, hi;
                fp8x16(p + k + j, &lo, &hi);
                DSV32_UNROLL
                for (int m = 0; m < MG; ++m) {
                    a0[m] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[m] + k + j), lo, a0[m]);
                    a1[m] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[m] + k + j + 8), hi, a1[m]);
                }
            }
            const __m256 sc = _mm256_set1_ps(srow[k / 128] * 256.0f);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) tot[m] = _mm256_fmadd_ps(_mm256_add_ps(a0[m], a1[m]), sc, tot[m]);
        }
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) s[m] = hsum(tot[m]);
    } else {
        const bool bf = w.type == WType::BF16;
        const uint8_t* pb = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
        const float* pf = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
        __m256 a0[MG], a1[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) a0[m] = a1[m] = _mm256_setzero_ps();
        for (; k + 16 <= K; k += 16) {
            const __m256 w0 = bf ? bf16x8(pb + 2 * size_t(k)) : _mm256_loadu_ps(pf + k);
            const __m256 w1 = bf ? bf16x8(pb + 2 * size_t(k) + 16) : _mm256_loadu_ps(pf + k + 8);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                a0[m] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[m] + k), w0, a0[m]);
                a1[m] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[m] + k + 8), w1, a1[m]);
            }
        }
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) s[m] = hsum(_mm256_add_ps(a0[m], a1[m]));
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) y[size_t(m0 + m) * size_t(N) + size_t(n)] = k < K ? tail(xr[m], w, n, k, s[m]) : s[m];
}

// Up to this many rows of x take rows_small (in groups of up to 4), more the batched kernels.
constexpr int SMALL_M = 8;

template <int R>
void rows_batched(const float* x, const WeightMat& w, float* y, int M, int n, float* scratch) {
    if (w.type == WType::FP8) fp8_rows<R>(x, w, y, M, n, scratch);
    else dense_rows<R>(x, w, y, M, n, scratch);
}

}  // namespace

void linear_rows_avx2(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch) {
    if (M == 1) {
        gemv_rows(x, w, y, n0, n1);
        return;
    }
    if (M <= SMALL_M) {
        for (int n = n0; n < n1; ++n)
            for (int m0 = 0; m0 < M; m0 += 4) {
                switch (M - m0 < 4 ? M - m0 : 4) {
                    case 4: rows_small<4>(x, w, y, m0, n); break;
                    case 3: rows_small<3>(x, w, y, m0, n); break;
                    case 2: rows_small<2>(x, w, y, m0, n); break;
                    default: rows_small<1>(x, w, y, m0, n); break;
                }
            }
        return;
    }
    for (int n = n0; n < n1; n += 4) {
        switch (n1 - n < 4 ? n1 - n : 4) {
            case 4: rows_batched<4>(x, w, y, M, n, scratch); break;
            case 3: rows_batched<3>(x, w, y, M, n, scratch); break;
            case 2: rows_batched<2>(x, w, y, M, n, scratch); break;
            default: rows_batched<1>(x, w, y, M, n, scratch); break;
        }
    }
}

float dot_avx2(const float* a, const float* b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float r = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) r += a[i] * b[i];
    return r;
}

namespace {

// linear_t_rows for FP8 W: y[m0 .. m0 + MG)[c0 .. c0 + 8 * NV) in registers over the band's rows, each 16-code chunk
// converted and scaled once as dequant_row does (f16-domain value times scale * 256) and applied to the MG rows of x
// by one fused multiply-add per element in row order: linear_t_rows_avx512's arithmetic, in 8-column vectors.
template <int NV, int MG>
void linear_t_fp8_block(const float* x, const WeightMat& w, int r0, int r1, float* y, int m0, int c0) {
    const int R = r1 - r0;
    __m256 acc[MG][NV];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm256_setzero_ps();
    for (int r = r0; r < r1; ++r) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(r) * row_stride(w) + size_t(c0);
        const float* srow = w.scale + size_t(r / 128) * size_t(w.scale_cols);
        if (c0 == 0 && r + 16 < r1) {  // whole rows 16 on, for the later column blocks (as the AVX-512 kernel)
            const uint8_t* ahead = static_cast<const uint8_t*>(w.data) + size_t(r + 16) * row_stride(w);
            for (int k = 0; k < w.in; k += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + k), _MM_HINT_T0);
        }
        __m256 a[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) a[m] = _mm256_set1_ps(x[size_t(m0 + m) * size_t(R) + size_t(r - r0)]);
        DSV32_UNROLL
        for (int v = 0; v < NV; v += 2) {
            __m256 lo, hi;
            fp8x16(p + 8 * v, &lo, &hi);
            const __m256 sc = _mm256_set1_ps(srow[(c0 + 8 * v) / 128] * 256.0f);
            const __m256 wl = _mm256_mul_ps(lo, sc), wh = _mm256_mul_ps(hi, sc);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                acc[m][v] = _mm256_fmadd_ps(a[m], wl, acc[m][v]);
                acc[m][v + 1] = _mm256_fmadd_ps(a[m], wh, acc[m][v + 1]);
            }
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        float* ym = y + size_t(m0 + m) * size_t(w.in) + size_t(c0);
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) _mm256_storeu_ps(ym + 8 * v, acc[m][v]);
    }
}

// Columns [0, K) of rows [m0, m0 + MG) of y: blocks of 8 * NV columns, then 16-column blocks.
template <int NV, int MG>
void linear_t_fp8_rows(const float* x, const WeightMat& w, int r0, int r1, float* y, int m0) {
    const int K = w.in;
    int c0 = 0;
    for (; c0 + 8 * NV <= K; c0 += 8 * NV) linear_t_fp8_block<NV, MG>(x, w, r0, r1, y, m0, c0);
    for (; c0 < K; c0 += 16) linear_t_fp8_block<2, MG>(x, w, r0, r1, y, m0, c0);
}

}  // namespace

bool linear_t_rows_avx2(const float* x, const WeightMat& w, int r0, int r1, float* y, int M) {
    if (w.type != WType::FP8 || w.in % 16 != 0) return false;
    int m = 0;
    for (; m + 4 <= M; m += 4) linear_t_fp8_rows<2, 4>(x, w, r0, r1, y, m);
    for (; m + 2 <= M; m += 2) linear_t_fp8_rows<4, 2>(x, w, r0, r1, y, m);
    for (; m < M; ++m) linear_t_fp8_rows<8, 1>(x, w, r0, r1, y, m);
    return true;
}

void unpack_bf16_avx2(const uint16_t* x, int n, float* out) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, bf16x8(reinterpret_cast<const uint8_t*>(x + i)));
    for (; i < n; ++i) {
        const __m128i v = _mm_cvtsi32_si128(int(uint32_t(x[i]) << 16));
        _mm_store_ss(out + i, _mm_castsi128_ps(v));
    }
}

void axpy_avx2(float a, const float* x, float* y, int n) {
    const __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace kernels
}  // namespace dsv32
