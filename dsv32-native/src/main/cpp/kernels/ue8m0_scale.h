// ue8m0_scale.h: the act_quant block scale of the fp8 numerics (architecture.md §3) as the vector round trips
// compute it from a block's amax: s = amax / 448 rounded up to a power of two, 2^e, from the bits (fp8.cpp's
// block_scale with ue8m0), and 2^-e, by which x / s is the same exact quotient, where 2^-e is a normal f32.
//
// Internal linkage (anonymous namespace), as aligned_scratch.h: each ISA file compiles its own copy with its own flags.
#ifndef DSV32_KERNELS_UE8M0_SCALE_H
#define DSV32_KERNELS_UE8M0_SCALE_H

#include <cstdint>
#include <cstring>

namespace dsv32 {
namespace kernels {
namespace {

struct Ue8m0Scale {
    float s;    // 2^e
    float inv;  // 2^-e where e <= 126; else 0: divide by s (an infinite or NaN block)
};

// amax >= 1e-4 (the scale's floor), so e is within the normal range.
inline Ue8m0Scale ue8m0_scale(float amax) {
    const float s = amax * (1.0f / 448.0f);
    uint32_t u;
    std::memcpy(&u, &s, 4);
    int e = int((u >> 23) & 0xFF) - 127;
    if (u & 0x7FFFFFu) ++e;
    Ue8m0Scale r{0.0f, 0.0f};
    const uint32_t sb = uint32_t(e + 127) << 23;
    std::memcpy(&r.s, &sb, 4);
    if (e <= 126) {
        const uint32_t ib = uint32_t(127 - e) << 23;
        std::memcpy(&r.inv, &ib, 4);
    }
    return r;
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
