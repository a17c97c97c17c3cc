// fp8_bf16_lut.h: e4m3 -> bf16 in registers for the AVX512-BF16 and AMX kernels (linear_avx512bf16.cpp,
// linear_amx.cpp): two VPERMI2B lookups of the 7 magnitude bits (128-entry tables of the bf16's high and low bytes), the
// sign OR-ed into the high byte, then the bytes interleaved into words with VPUNPCK{L,H}BW. The interleave works within
// 128-bit lanes, so 64 codes become two vectors: w0 = codes {0..7, 16..23, 32..39, 48..55} and w1 = the other 32 (the
// "FP8 order" in which pack_x_bf16 lays out x, so that each product pairs the right column). Exact: e4m3 has 3 mantissa
// bits. Included only by files compiled with -mavx512bw -mavx512vbmi -mavx512bf16; internal linkage, as
// convert_avx512.h.
#ifndef DSV32_KERNELS_FP8_BF16_LUT_H
#define DSV32_KERNELS_FP8_BF16_LUT_H

#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {
namespace {

// The four 64-byte lookup tables: high / low byte of bf16(e4m3 magnitude code c), c = 0..127 (c & 64 picks the table).
struct Lut {
    __m512i hi0, hi1, lo0, lo1;
};

inline Lut make_lut() {
    alignas(64) static uint8_t hi[128], lo[128];
    static const bool filled = [] {
        const float* tab = e4m3_table();
        for (int c = 0; c < 128; ++c) {
            const uint16_t b = f32_to_bf16(tab[c]);  // exact: e4m3 has 3 mantissa bits (0x7F, NaN, stays NaN)
            hi[c] = uint8_t(b >> 8);
            lo[c] = uint8_t(b & 0xFF);
        }
        return true;
    }();
    (void)filled;
    return {_mm512_load_si512(hi), _mm512_load_si512(hi + 64), _mm512_load_si512(lo), _mm512_load_si512(lo + 64)};
}

// 64 e4m3 codes in a register -> w0, w1 (32 bf16 each, in the lane order described at the top).
inline void fp8x64r(__m512i c, const Lut& L, __m512bh* w0, __m512bh* w1) {
    __m512i hi = _mm512_permutex2var_epi8(L.hi0, c, L.hi1);  // bits 0..5 index a table, bit 6 picks it, bit 7 ignored
    const __m512i lo = _mm512_permutex2var_epi8(L.lo0, c, L.lo1);
    hi = _mm512_ternarylogic_epi32(hi, c, _mm512_set1_epi8(char(0x80)), 0xF8);  // hi | (c & 0x80): the sign
    *w0 = (__m512bh)_mm512_unpacklo_epi8(lo, hi);
    *w1 = (__m512bh)_mm512_unpackhi_epi8(lo, hi);
}
// The same from memory (any alignment).
inline void fp8x64(const uint8_t* p, const Lut& L, __m512bh* w0, __m512bh* w1) { fp8x64r(_mm512_loadu_si512(p), L, w0, w1); }

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
