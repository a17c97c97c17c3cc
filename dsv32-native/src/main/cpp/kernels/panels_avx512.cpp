// panels_avx512.cpp: the row-panel GEMV for an f32 x (panels.h), AVX-512F. Compiled with -mavx512f ... (CMakeLists.txt)
// and called only on the Avx512 kernel path. Reference: linear_panels_scalar (test_kernels compares bitwise).
#include <immintrin.h>

#include "kernels/panels_avx512.h"

namespace dsv32 {
namespace kernels {

namespace {

// A panel vector widened into its even and odd columns; per row of x two broadcasts and two FMAs, even column first.
struct F32Panel {
    using X = float;
    struct W {
        __m512 even, odd;
    };
    static const float* row(const float* x, int m, int in) { return x + size_t(m) * size_t(in); }
    static W prep(__m512i v) {
        return {_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),                                   // column 2q: the low half
                _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(0xFFFF0000u))))};  // column 2q + 1
    }
    static __m512 mac(__m512 acc, const W& w, const float* xr, int q) {
        acc = _mm512_fmadd_ps(w.even, _mm512_set1_ps(xr[2 * q]), acc);
        return _mm512_fmadd_ps(w.odd, _mm512_set1_ps(xr[2 * q + 1]), acc);
    }
};

}  // namespace

void linear_panels_avx512(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    panels_run<F32Panel>(x, w, y, M, p0, p1);
}

}  // namespace kernels
}  // namespace dsv32
