// linear_avx2.cpp: AVX2+FMA+F16C row kernel of kernels::linear. Compiled with -mavx2 -mfma -mf16c
// (CMakeLists.txt); called only when the CPU has them. Reference: linear_rows_scalar in linear.cpp (test_kernels
// compares every path against it). e4m3 -> f32 via f16 exactly as in linear_avx512.cpp (see there).
#include <immintrin.h>

#include <cstdint>

#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

namespace {

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
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * size_t(K);
        const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
        for (int kb = 0; kb + 128 <= K; kb += 128) {
            const __m256 s = _mm256_set1_ps(srow[kb / 128] * 256.0f);
            for (int j = 0; j < 128; j += 8) _mm256_storeu_ps(out + kb + j, _mm256_mul_ps(fp8x8(p + kb + j), s));
            k = kb + 128;
        }
    } else if (w.type == WType::BF16) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * size_t(K);
        for (; k + 8 <= K; k += 8) _mm256_storeu_ps(out + k, bf16x8(p + 2 * size_t(k)));
    } else {
        const float* p = static_cast<const float*>(w.data) + size_t(n) * size_t(K);
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

}  // namespace

void linear_rows_avx2(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch) {
    const int K = w.in, N = w.out;
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
