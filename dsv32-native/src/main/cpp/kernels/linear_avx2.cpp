// linear_avx2.cpp: AVX2+FMA+F16C row kernel of kernels::linear. Compiled with -mavx2 -mfma -mf16c
// (CMakeLists.txt); called only when the CPU has them. Reference: linear_rows_scalar in linear.cpp (test_kernels
// compares every path against it). e4m3 -> f32 via f16 exactly as in linear_avx512.cpp (see there).
#include <immintrin.h>

#include <cstdint>

#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

namespace {

// Row stride of w's data in elements (WeightMat::stride(), written out here: an inline function of the header
// compiled in this TU with its -m flags could be the copy the linker keeps for baseline callers).
inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

inline __m256 fp8x8(const uint8_t* p) {
    const __m128i v = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    const __m128i h = _mm_or_si128(_mm_and_si128(_mm_slli_epi16(v, 8), _mm_set1_epi16(short(0x8000))),
                                   _mm_and_si128(_mm_slli_epi16(v, 7), _mm_set1_epi16(0x3F80)));
    return _mm256_cvtph_ps(h);
}

inline __m256 bf16x8(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

void deq_row(const WeightMat& w, int n, float* out) {
    const int K = w.in;
    int k = 0;
    if (w.type == WType::FP8) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
        const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
        for (int kb = 0; kb + 128 <= K; kb += 128) {
            const __m256 s = _mm256_set1_ps(srow[kb / 128] * 256.0f);
            for (int j = 0; j < 128; j += 8) _mm256_storeu_ps(out + kb + j, _mm256_mul_ps(fp8x8(p + kb + j), s));
            k = kb + 128;
        }
    } else if (w.type == WType::BF16) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(out + k, bf16x8(p + 2 * size_t(k)));
    } else {
        const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(out + k, _mm256_loadu_ps(p + k));
    }
    if (k < K) dequant_row(w, n, k, K - k, out + k);
}

template <int R>
void dots(const float* x, int M, int K, int N, const float* rows, int ld, int n, float* y) {
    const int K8 = K & ~7;
    for (int m = 0; m < M; ++m) {
        const float* xr = x + size_t(m) * size_t(K);
        __m256 acc[R];
        for (int i = 0; i < R; ++i) acc[i] = _mm256_setzero_ps();
        for (int k = 0; k < K8; k += 8) {
            const __m256 xv = _mm256_loadu_ps(xr + k);
            for (int i = 0; i < R; ++i) acc[i] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(rows + size_t(i) * ld + k), acc[i]);
        }
        for (int i = 0; i < R; ++i) {
            float s = hsum(acc[i]);
            for (int k = K8; k < K; ++k) s += xr[k] * rows[size_t(i) * ld + k];
            y[size_t(m) * size_t(N) + size_t(n + i)] = s;
        }
    }
}

// 16 e4m3 codes -> two f16-domain f32 vectors (value * 2^-8, exact).
inline void fp8x16(const uint8_t* p, __m256* lo, __m256* hi) {
    const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i h = _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi16(v, 8), _mm256_set1_epi16(short(0x8000))),
                                      _mm256_slli_epi16(_mm256_and_si256(v, _mm256_set1_epi16(0x7F)), 7));
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
        if (k < K) {  // tail: scalar reference dequantisation
            float t[128];
            while (k < K) {
                const int len = K - k < 128 ? K - k : 128;
                dequant_row(w, n, k, len, t);
                for (int i = 0; i < len; ++i) s += x[k + i] * t[i];
                k += len;
            }
        }
        y[n] = s;
    }
}

}  // namespace

void linear_rows_avx2(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch) {
    const int K = w.in, N = w.out;
    if (M == 1) {
        gemv_rows(x, w, y, n0, n1);
        return;
    }
    const int ld = (K + 15) & ~15;
    for (int n = n0; n < n1; n += 4) {
        const int R = n1 - n < 4 ? n1 - n : 4;
        for (int i = 0; i < R; ++i) deq_row(w, n + i, scratch + size_t(i) * ld);
        switch (R) {
            case 4: dots<4>(x, M, K, N, scratch, ld, n, y); break;
            case 3: dots<3>(x, M, K, N, scratch, ld, n, y); break;
            case 2: dots<2>(x, M, K, N, scratch, ld, n, y); break;
            default: dots<1>(x, M, K, N, scratch, ld, n, y); break;
        }
    }
}

}  // namespace kernels
}  // namespace dsv32
