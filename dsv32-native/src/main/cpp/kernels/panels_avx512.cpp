// panels_avx512.cpp: the row-panel GEMV for an f32 x (panels.h), AVX-512F. Compiled with -mavx512f ... (CMakeLists.txt)
// and called only on the Avx512 kernel path. Reference: linear_panels_scalar (test_kernels compares bitwise).
#include <immintrin.h>

#include "kernels/convert_avx512.h"
#include "kernels/panels.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

// Panel pi against rows [m0, m0 + MG) of x: 4 * MG accumulators, each lane one output's chain (panels.h). Per column
// pair: the panel's four vectors widened into even / odd columns, two broadcasts of x per row, 8 FMAs per row.
template <int MG>
void panel_f32(const float* x, const Bf16Panels& w, float* y, int m0, int pi, const uint8_t* end) {
    const int K = w.in, Q = K / 2;
    const uint32_t* p = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
    const __m512i hi = _mm512_set1_epi32(int(0xFFFF0000u));
    __m512 a[MG][4];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int v = 0; v < 4; ++v) a[m][v] = _mm512_setzero_ps();
    for (int q = 0; q < Q; ++q) {
        const uint32_t* pq = p + size_t(q) * PANEL_ROWS;
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq), end);  // convert_avx512.h: 32 KB on, into L2
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq + 32), end);
        __m512 we[4], wo[4];
        DSV32_UNROLL
        for (int v = 0; v < 4; ++v) {
            const __m512i wv = _mm512_load_si512(pq + 16 * v);
            we[v] = _mm512_castsi512_ps(_mm512_slli_epi32(wv, 16));  // column 2q: the low half
            wo[v] = _mm512_castsi512_ps(_mm512_and_si512(wv, hi));   // column 2q + 1
        }
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const float* xr = x + size_t(m0 + m) * size_t(K) + 2 * size_t(q);
            const __m512 xe = _mm512_set1_ps(xr[0]), xo = _mm512_set1_ps(xr[1]);
            DSV32_UNROLL
            for (int v = 0; v < 4; ++v) a[m][v] = _mm512_fmadd_ps(wo[v], xo, _mm512_fmadd_ps(we[v], xe, a[m][v]));
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

void linear_panels_avx512(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    const uint8_t* end = reinterpret_cast<const uint8_t*>(w.data.get()) + w.nbytes();
    for (int pi = p0; pi < p1; ++pi)
        for (int m0 = 0; m0 < M; m0 += 4) {  // a panel (128 KB at in = 1024) stays in L2 across the groups of rows
            switch (M - m0 < 4 ? M - m0 : 4) {
                case 4: panel_f32<4>(x, w, y, m0, pi, end); break;
                case 3: panel_f32<3>(x, w, y, m0, pi, end); break;
                case 2: panel_f32<2>(x, w, y, m0, pi, end); break;
                default: panel_f32<1>(x, w, y, m0, pi, end); break;
            }
        }
}

}  // namespace kernels
}  // namespace dsv32
