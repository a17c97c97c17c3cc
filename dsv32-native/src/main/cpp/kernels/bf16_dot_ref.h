// bf16_dot_ref.h: VDPBF16PS's arithmetic for one lane in scalar code (Intel SDM): denormal bf16 inputs read as zero, the
// odd pair's product added first, each sum rounded to nearest even and a denormal result flushed to zero. The
// references of the AVX512-BF16 kernels (panels.cpp, pair_tiles.cpp) use it to be bitwise what those kernels give.
// Internal linkage (anonymous namespace), as convert_avx512.h.
#ifndef DSV32_KERNELS_BF16_DOT_REF_H
#define DSV32_KERNELS_BF16_DOT_REF_H

#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {
namespace {

inline float ftz(float v) { return std::fpclassify(v) == FP_SUBNORMAL ? std::copysign(0.0f, v) : v; }
inline float daz_bf16(uint16_t b) {
    const float v = bf16_to_f32(b);
    return (b & 0x7F80) == 0 ? std::copysign(0.0f, v) : v;
}
// acc + the products of the bf16 pairs w, x (low halves: the even elements), as one VDPBF16PS lane.
inline float dp_pair(float acc, uint32_t w, uint32_t x) {
    acc = ftz(acc + daz_bf16(uint16_t(w >> 16)) * daz_bf16(uint16_t(x >> 16)));  // the product is exact in f32
    return ftz(acc + daz_bf16(uint16_t(w)) * daz_bf16(uint16_t(x)));
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
