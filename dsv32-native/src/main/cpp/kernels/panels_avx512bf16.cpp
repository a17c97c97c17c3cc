// panels_avx512bf16.cpp: the row-panel GEMV for an x of bf16 values (panels.h), one VDPBF16PS per panel vector and
// column pair. Compiled with -mavx512bf16 ... (CMakeLists.txt), called only when the CPU has it. Reference:
// linear_panels_scalar(..., bf16dot = true) (test_kernels compares bitwise).
#include <immintrin.h>

#include "kernels/convert_avx512.h"
#include "kernels/panels.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

// Panel pi against rows [m0, m0 + MG) of x (bf16 pairs): 4 * MG accumulators, one broadcast of x's pair per row.
template <int MG>
void panel_dot(const uint32_t* xp, const Bf16Panels& w, float* y, int m0, int pi, const uint8_t* end) {
    const int Q = w.in / 2;
    const uint32_t* p = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
    __m512 a[MG][4];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int v = 0; v < 4; ++v) a[m][v] = _mm512_setzero_ps();
    for (int q = 0; q < Q; ++q) {
        const uint32_t* pq = p + size_t(q) * PANEL_ROWS;
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq), end);  // convert_avx512.h: 32 KB on, into L2
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq + 32), end);
        __m512bh wv[4];
        DSV32_UNROLL
        for (int v = 0; v < 4; ++v) wv[v] = (__m512bh)_mm512_load_si512(pq + 16 * v);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const __m512bh xv = (__m512bh)_mm512_set1_epi32(int(xp[size_t(m0 + m) * size_t(Q) + size_t(q)]));
            DSV32_UNROLL
            for (int v = 0; v < 4; ++v) a[m][v] = _mm512_dpbf16_ps(a[m][v], wv[v], xv);
        }
    }
    const int n0 = pi * PANEL_ROWS;
    DSV32_UNROLL
    for (int v = 0; v < 4; ++v) {
        const int left = w.out - (n0 + 16 * v);
        if (left <= 0) break;
        const __mmask16 k = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) _mm512_mask_storeu_ps(y + size_t(m0 + m) * size_t(w.out) + size_t(n0 + 16 * v), k, a[m][v]);
    }
}

}  // namespace

void linear_panels_bf16dot(const uint32_t* xp, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    const uint8_t* end = reinterpret_cast<const uint8_t*>(w.data.get()) + w.nbytes();
    for (int pi = p0; pi < p1; ++pi)
        for (int m0 = 0; m0 < M; m0 += 4) {
            switch (M - m0 < 4 ? M - m0 : 4) {
                case 4: panel_dot<4>(xp, w, y, m0, pi, end); break;
                case 3: panel_dot<3>(xp, w, y, m0, pi, end); break;
                case 2: panel_dot<2>(xp, w, y, m0, pi, end); break;
                default: panel_dot<1>(xp, w, y, m0, pi, end); break;
            }
        }
}

}  // namespace kernels
}  // namespace dsv32
