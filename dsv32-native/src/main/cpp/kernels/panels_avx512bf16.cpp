// panels_avx512bf16.cpp: the row-panel GEMV for an x of bf16 values (panels.h), one VDPBF16PS per panel vector, row of
// x and column pair. Compiled with -mavx512bf16 ... (CMakeLists.txt), called only when the CPU has it. Reference:
// linear_panels_scalar(..., bf16dot = true) (test_kernels compares bitwise).
#include <immintrin.h>

#include "kernels/panels_avx512.h"

namespace dsv32 {
namespace kernels {

namespace {

// x as bf16 pairs (panels.h): the row's pair q broadcast as one dword against the panel vector as stored.
struct DotPanel {
    using X = uint32_t;
    using W = __m512bh;
    static const uint32_t* row(const uint32_t* xp, int m, int in) { return xp + size_t(m) * size_t(in / 2); }
    static W prep(__m512i v) { return (__m512bh)v; }
    static __m512 mac(__m512 acc, W w, const uint32_t* xr, int q) {
        return _mm512_dpbf16_ps(acc, w, (__m512bh)_mm512_set1_epi32(int(xr[q])));
    }
};

}  // namespace

void linear_panels_bf16dot(const uint32_t* xp, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    panels_run<DotPanel>(xp, w, y, M, p0, p1);
}

}  // namespace kernels
}  // namespace dsv32
