// convert_avx512.h: weight element conversions shared by the AVX-512 translation units (linear_avx512.cpp,
// attention_avx512.cpp) -- included only by files compiled with the AVX-512 -m flags. Internal linkage (anonymous
// namespace), so no copy compiled with these flags can be merged with a baseline one.
//
// e4m3 -> f32 goes through f16: the code's magnitude bits shifted left by 7 are an f16 with the same mantissa and
// an exponent 8 lower (subnormals included), so f32 = cvtph(h) * 2^8, exact; the 2^8 is folded into the block
// scale (scale * 256 is exact), giving e4m3(code) * scale with one rounding, as the scalar dequant_row does.
// (The NaN codes 0x7F/0xFF read as +-480 here instead of NaN; checkpoints hold none.)
#ifndef DSV32_KERNELS_CONVERT_AVX512_H
#define DSV32_KERNELS_CONVERT_AVX512_H

#include <immintrin.h>

#include <cstdint>

namespace dsv32 {
namespace kernels {
namespace {

// 16 bf16 values (32 bytes, any alignment) -> f32, exact.
inline __m512 bf16x16(const uint8_t* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

// 32 e4m3 codes -> two f16-domain f32 vectors (value * 2^-8, exact). The f16 bits are sign << 15 | magnitude << 7:
// sign-extending the byte to 16 bits and shifting left by 7 puts the sign at bit 15 and the magnitude at bits 7..13,
// with a copy of the sign at bit 14 that the mask clears (2 integer operations per 32 codes after the widening).
inline void fp8x32(const uint8_t* p, __m512* lo, __m512* hi) {
    const __m512i v = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    const __m512i h = _mm512_and_si512(_mm512_slli_epi16(v, 7), _mm512_set1_epi16(short(0xBF80)));
    *lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    *hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
