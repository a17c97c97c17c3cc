// linear_avx512.cpp: AVX-512 (F/BW/VL) row kernel of kernels::linear. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx2 -mfma -mf16c (CMakeLists.txt); called only when the CPU has them. Reference:
// linear_rows_scalar in linear.cpp (test_kernels compares every path against it).
//
// e4m3 -> f32 goes through f16: the code's magnitude bits shifted left by 7 are an f16 with the same mantissa and
// an exponent 8 lower (subnormals included), so f32 = cvtph(h) * 2^8, exact; the 2^8 is folded into the block
// scale (scale * 256 is exact), giving e4m3(code) * scale with one rounding, as the scalar dequant_row does.
// (The NaN codes 0x7F/0xFF read as +-480 here instead of NaN; checkpoints hold none.)
#include <immintrin.h>

#include <cstdint>

#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

namespace {

// Row stride of w's data in elements (WeightMat::stride(), written out here: an inline function of the header
// compiled in this TU with its -m flags could be the copy the linker keeps for baseline callers).
inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

inline __m512 fp8x16(const uint8_t* p) {
    const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i h = _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi16(v, 8), _mm256_set1_epi16(short(0x8000))),
                                      _mm256_and_si256(_mm256_slli_epi16(v, 7), _mm256_set1_epi16(0x3F80)));
    return _mm512_cvtph_ps(h);
}

inline __m512 bf16x16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

// out[0..K) = dequantised row n.
void deq_row(const WeightMat& w, int n, float* out) {
    const int K = w.in;
    int k = 0;
    if (w.type == WType::FP8) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
        const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
        for (int kb = 0; kb + 128 <= K; kb += 128) {
            const __m512 s = _mm512_set1_ps(srow[kb / 128] * 256.0f);
            for (int j = 0; j < 128; j += 16) _mm512_storeu_ps(out + kb + j, _mm512_mul_ps(fp8x16(p + kb + j), s));
            k = kb + 128;
        }
    } else if (w.type == WType::BF16) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(n) * row_stride(w);
        for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, bf16x16(p + 2 * size_t(k)));
    } else {
        const float* p = static_cast<const float*>(w.data) + size_t(n) * row_stride(w);
        for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, _mm512_loadu_ps(p + k));
    }
    if (k < K) dequant_row(w, n, k, K - k, out + k);
}

template <int R>
void dots(const float* x, int M, int K, int N, const float* rows, int ld, int n, float* y) {
    const int K16 = K & ~15;
    for (int m = 0; m < M; ++m) {
        const float* xr = x + size_t(m) * size_t(K);
        __m512 acc[R];
        for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
        for (int k = 0; k < K16; k += 16) {
            const __m512 xv = _mm512_loadu_ps(xr + k);
            for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(rows + size_t(i) * ld + k), acc[i]);
        }
        for (int i = 0; i < R; ++i) {
            float s = _mm512_reduce_add_ps(acc[i]);
            for (int k = K16; k < K; ++k) s += xr[k] * rows[size_t(i) * ld + k];
            y[size_t(m) * size_t(N) + size_t(n + i)] = s;
        }
    }
}

// 32 e4m3 codes -> two f16-domain f32 vectors (value * 2^-8, exact).
inline void fp8x32(const uint8_t* p, __m512* lo, __m512* hi) {
    const __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i h = _mm512_or_si512(_mm512_and_si512(_mm512_slli_epi16(v, 8), _mm512_set1_epi16(short(0x8000))),
                                      _mm512_slli_epi16(_mm512_and_si512(v, _mm512_set1_epi16(0x7F)), 7));
    *lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    *hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
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
            for (; k + 128 <= K; k += 128) {
                __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
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
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (; k + 32 <= K; k += 32) {
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
        if (k < K) {  // tail (K not a multiple of the block): scalar reference dequantisation
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

void linear_rows_avx512(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch) {
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
