// fp8_avx512.cpp: AVX-512 paths of the fp8 numerics primitives of fp8.cpp (the ue8m0 act_quant round trip and the
// bf16 rounding), bitwise equal to the scalar ones there (test_kernels checks). Compiled with -mavx512f -mavx512bw
// -mavx512vl (CMakeLists.txt); called only when the CPU has them.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/convert_avx512.h"
#include "kernels/linear_isa.h"
#include "kernels/ue8m0_scale.h"

namespace dsv32 {
namespace kernels {

namespace {

// Round to nearest even at bit `drop` of the f32 bits (finite inputs): the f32 nearest with the low `drop` bits zero.
inline __m512i round_bits(__m512i u, int drop) {
    const __m512i half = _mm512_set1_epi32(int((1u << (drop - 1)) - 1u));
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, unsigned(drop)), _mm512_set1_epi32(1));
    const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(half, odd));
    return _mm512_andnot_si512(_mm512_set1_epi32(int((1u << drop) - 1u)), r);
}

// e4m3(v) for |v| <= 448 (already divided by the block scale and clamped), as an f32: 3 mantissa bits, round to
// nearest even; under 2^-6 multiples of 2^-9 (the subnormals). The sign is kept (-0 stays -0).
inline __m512 e4m3_round(__m512 v) {
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(int(0x80000000u)));
    const __m512 a = _mm512_abs_ps(v);
    // Normal range: drop 20 of the 23 mantissa bits (a carry into the exponent is the right result).
    const __m512 normal = _mm512_castsi512_ps(round_bits(_mm512_castps_si512(a), 20));
    // Subnormal range: a + 2^14 rounds a to a multiple of 2^(14 - 23) = 2^-9 (nearest even), exactly undone after.
    const __m512 big = _mm512_set1_ps(16384.0f);
    const __m512 sub = _mm512_sub_ps(_mm512_add_ps(a, big), big);
    const __mmask16 small = _mm512_cmp_ps_mask(a, _mm512_set1_ps(1.0f / 64.0f), _CMP_LT_OQ);
    const __m512 m = _mm512_mask_blend_ps(small, normal, sub);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(m), sign));
}

// The round trip of one 128-block (v: its 8 vectors, in place). The scale as fp8.cpp's block_scale: amax / 448
// rounded up to a power of two (ue8m0), s = 2^e. x / s and x * 2^-e are the same exact quotient, rounded once: the
// multiply replaces 8 divisions a block (a 512-bit VDIVPS issues about once in 5 cycles here) wherever 2^-e is a
// normal f32 (e <= 126; beyond, an infinite or NaN block, the division).
inline void roundtrip_block(__m512 v[8]) {
    const __m512 lim = _mm512_set1_ps(448.0f), nlim = _mm512_set1_ps(-448.0f);
    __m512 amax = _mm512_set1_ps(1e-4f);
    for (int i = 0; i < 8; ++i) amax = _mm512_max_ps(amax, _mm512_abs_ps(v[i]));
    const Ue8m0Scale sc = ue8m0_scale(_mm512_reduce_max_ps(amax));  // ue8m0_scale.h
    const __m512 sv = _mm512_set1_ps(sc.s);
    if (sc.inv != 0.0f) {
        const __m512 iv = _mm512_set1_ps(sc.inv);
        for (int i = 0; i < 8; ++i) {
            const __m512 q = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v[i], iv), nlim), lim);
            v[i] = _mm512_mul_ps(e4m3_round(q), sv);
        }
        return;
    }
    for (int i = 0; i < 8; ++i) {
        const __m512 q = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v[i], sv), nlim), lim);
        v[i] = _mm512_mul_ps(e4m3_round(q), sv);
    }
}

}  // namespace

void act_quant_roundtrip_avx512(float* x, int rows, int n) {
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < n / 128; ++b) {
            float* xb = x + size_t(r) * size_t(n) + size_t(b) * 128;
            __m512 v[8];
            for (int i = 0; i < 8; ++i) v[i] = _mm512_loadu_ps(xb + 16 * i);
            roundtrip_block(v);
            for (int i = 0; i < 8; ++i) _mm512_storeu_ps(xb + 16 * i, v[i]);
        }
}

bool act_quant_pack_x_fp8_avx512(const float* x, int rows, int n, uint16_t* out) {
    const __m512i low = _mm512_set1_epi32(0xFFFF);
    __m512i bad = _mm512_setzero_si512();
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < n / 128; ++b) {
            const float* xb = x + size_t(r) * size_t(n) + size_t(b) * 128;
            __m512 v[8];
            for (int i = 0; i < 8; ++i) v[i] = _mm512_loadu_ps(xb + 16 * i);
            roundtrip_block(v);
            for (int i = 0; i < 8; ++i) {
                const __m512i u = _mm512_castps_si512(v[i]);
                bad = _mm512_or_si512(bad, _mm512_and_si512(u, low));
                store_x_fp8_order(out + size_t(r) * size_t(n), b * 128 + 16 * i, u);  // convert_avx512.h
            }
        }
    return _mm512_test_epi32_mask(bad, bad) == 0;
}

void round_bf16_avx512(float* x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(x + i));
        // NaN stays NaN (quiet), as f32_to_bf16: exponent all ones with a non-zero mantissa.
        const __mmask16 nan = _mm512_cmp_ps_mask(_mm512_castsi512_ps(u), _mm512_castsi512_ps(u), _CMP_UNORD_Q);
        __m512i r = round_bits(u, 16);
        r = _mm512_mask_mov_epi32(r, nan, _mm512_and_si512(_mm512_or_si512(u, _mm512_set1_epi32(0x400000)),
                                                           _mm512_set1_epi32(int(0xFFFF0000u))));
        _mm512_storeu_ps(x + i, _mm512_castsi512_ps(r));
    }
    for (; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

void pack_bf16_avx512(const float* x, int n, uint16_t* out) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {  // round_bf16_avx512's rounding, then the high halves
        const __m512i u = _mm512_castps_si512(_mm512_loadu_ps(x + i));
        const __mmask16 nan = _mm512_cmp_ps_mask(_mm512_castsi512_ps(u), _mm512_castsi512_ps(u), _CMP_UNORD_Q);
        __m512i r = round_bits(u, 16);
        r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
    }
    for (; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

}  // namespace kernels
}  // namespace dsv32
