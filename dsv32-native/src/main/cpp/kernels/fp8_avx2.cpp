// fp8_avx2.cpp: AVX2 paths of the fp8 numerics primitives of fp8.cpp (the ue8m0 act_quant round trip and the bf16
// rounding and packing), bitwise equal to the scalar ones there, as fp8_avx512.cpp's are (test_kernels checks), in
// 8-lane vectors. Compiled with -mavx2 (CMakeLists.txt); called only when the CPU has it. On that path every FP8
// linear of the fp8 numerics round-trips its x through act_quant and rounds its output to bf16: scalar, that was
// about a tenth of mini's batch-4 decode step there.
#include <immintrin.h>

#include <cstdint>

#include "kernels/linear_isa.h"
#include "kernels/ue8m0_scale.h"

namespace dsv32 {
namespace kernels {

namespace {

// Round to nearest even at bit `drop` of the f32 bits (finite inputs): the f32 nearest with the low `drop` bits zero.
inline __m256i round_bits(__m256i u, int drop) {
    const __m256i half = _mm256_set1_epi32(int((1u << (drop - 1)) - 1u));
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, drop), _mm256_set1_epi32(1));
    const __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(half, odd));
    return _mm256_andnot_si256(_mm256_set1_epi32(int((1u << drop) - 1u)), r);
}

inline __m256 abs_ps(__m256 v) { return _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }

// e4m3(v) for |v| <= 448 as an f32 (fp8_avx512.cpp's e4m3_round): normal range by dropping 20 mantissa bits, under
// 2^-6 a multiple of 2^-9 through a + 2^14 - 2^14; the sign kept.
inline __m256 e4m3_round(__m256 v) {
    const __m256 sign = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(int(0x80000000u))));
    const __m256 a = abs_ps(v);
    const __m256 normal = _mm256_castsi256_ps(round_bits(_mm256_castps_si256(a), 20));
    const __m256 big = _mm256_set1_ps(16384.0f);
    const __m256 sub = _mm256_sub_ps(_mm256_add_ps(a, big), big);
    const __m256 small = _mm256_cmp_ps(a, _mm256_set1_ps(1.0f / 64.0f), _CMP_LT_OQ);
    return _mm256_or_ps(_mm256_blendv_ps(normal, sub, small), sign);
}

// The round trip of one 128-block (v: its 16 vectors, in place), with fp8_avx512.cpp's roundtrip_block's scale and
// multiply by the exact 2^-e.
inline void roundtrip_block(__m256 v[16]) {
    const __m256 lim = _mm256_set1_ps(448.0f), nlim = _mm256_set1_ps(-448.0f);
    __m256 amax = _mm256_set1_ps(1e-4f);
    for (int i = 0; i < 16; ++i) amax = _mm256_max_ps(amax, abs_ps(v[i]));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    const Ue8m0Scale sc = ue8m0_scale(_mm_cvtss_f32(m4));  // ue8m0_scale.h
    const __m256 sv = _mm256_set1_ps(sc.s);
    if (sc.inv != 0.0f) {
        const __m256 iv = _mm256_set1_ps(sc.inv);
        for (int i = 0; i < 16; ++i) {
            const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v[i], iv), nlim), lim);
            v[i] = _mm256_mul_ps(e4m3_round(q), sv);
        }
        return;
    }
    for (int i = 0; i < 16; ++i) {
        const __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(v[i], sv), nlim), lim);
        v[i] = _mm256_mul_ps(e4m3_round(q), sv);
    }
}

// f32 -> bf16 rounding of 8 values (as f32 bits, low halves zero): nearest even; a NaN stays a quiet NaN.
inline __m256i round_bf16_bits(__m256i u) {
    const __m256 f = _mm256_castsi256_ps(u);
    const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(f, f, _CMP_UNORD_Q));
    const __m256i quiet = _mm256_and_si256(_mm256_or_si256(u, _mm256_set1_epi32(0x400000)), _mm256_set1_epi32(int(0xFFFF0000u)));
    return _mm256_blendv_epi8(round_bits(u, 16), quiet, nan);
}

}  // namespace

void act_quant_roundtrip_avx2(float* x, int rows, int n) {
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < n / 128; ++b) {
            float* xb = x + size_t(r) * size_t(n) + size_t(b) * 128;
            __m256 v[16];
            for (int i = 0; i < 16; ++i) v[i] = _mm256_loadu_ps(xb + 8 * i);
            roundtrip_block(v);
            for (int i = 0; i < 16; ++i) _mm256_storeu_ps(xb + 8 * i, v[i]);
        }
}

void round_bf16_avx2(float* x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i r = round_bf16_bits(_mm256_castps_si256(_mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(x + i, _mm256_castsi256_ps(r));
    }
    for (; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

void pack_bf16_avx2(const float* x, int n, uint16_t* out) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i r = _mm256_srli_epi32(round_bf16_bits(_mm256_castps_si256(_mm256_loadu_ps(x + i))), 16);
        // 8 dwords (each < 2^16) -> 8 words: packus works per 128-bit lane, so take both lanes' low quarters.
        const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), w);
    }
    for (; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

}  // namespace kernels
}  // namespace dsv32
