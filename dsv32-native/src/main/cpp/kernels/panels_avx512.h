// panels_avx512.h: the register block of the row-panel GEMV (panels.h), shared by the f32 kernel (panels_avx512.cpp:
// f32 x, fused multiply-adds) and the bf16-dot kernel (panels_avx512bf16.cpp: x as bf16 pairs, VDPBF16PS). Included
// only by files compiled with the AVX-512 -m flags; internal linkage (anonymous namespace), as convert_avx512.h.
#ifndef DSV32_KERNELS_PANELS_AVX512_H
#define DSV32_KERNELS_PANELS_AVX512_H

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/convert_avx512.h"
#include "kernels/panels.h"

namespace dsv32 {
namespace kernels {
namespace {

// Panel pi against rows [m0, m0 + MG) of x: 4 * MG accumulators, each lane one output's chain (panels.h). Per column
// pair q the panel's four vectors are loaded once (Ops::prep), then each row of x adds its pair to all 64 rows
// (Ops::mac). Ops (F32Panel, DotPanel): X the element type of x; row(x, m, in) row m of x; W prep(__m512i) the form
// mac takes; mac(acc, W, x row, q).
template <class Ops, int MG>
inline void panel_rows(const typename Ops::X* x, const Bf16Panels& w, float* y, int m0, int pi, const uint8_t* end) {
    const int Q = w.in / 2;
    const uint32_t* p = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
    const typename Ops::X* xr[MG];
    __m512 a[MG][4];
    _Pragma("GCC unroll 8") for (int m = 0; m < MG; ++m) {
        xr[m] = Ops::row(x, m0 + m, w.in);
        _Pragma("GCC unroll 8") for (int v = 0; v < 4; ++v) a[m][v] = _mm512_setzero_ps();
    }
    for (int q = 0; q < Q; ++q) {
        const uint32_t* pq = p + size_t(q) * PANEL_ROWS;
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq), end);  // convert_avx512.h: 32 KB on, into L2
        prefetch_stream(reinterpret_cast<const uint8_t*>(pq + 32), end);
        typename Ops::W wv[4];
        _Pragma("GCC unroll 8") for (int v = 0; v < 4; ++v) wv[v] = Ops::prep(_mm512_load_si512(pq + 16 * v));
        _Pragma("GCC unroll 8") for (int m = 0; m < MG; ++m)
            _Pragma("GCC unroll 8") for (int v = 0; v < 4; ++v) a[m][v] = Ops::mac(a[m][v], wv[v], xr[m], q);
    }
    const int n0 = pi * PANEL_ROWS;
    _Pragma("GCC unroll 8") for (int v = 0; v < 4; ++v) {
        const int left = w.out - (n0 + 16 * v);  // the last panel's rows past out are not stored
        if (left <= 0) break;
        const __mmask16 k = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        _Pragma("GCC unroll 8") for (int m = 0; m < MG; ++m)
            _mm512_mask_storeu_ps(y + size_t(m0 + m) * size_t(w.out) + size_t(n0 + 16 * v), k, a[m][v]);
    }
}

// Panels [p0, p1) against every row of x, four rows at a time: a panel (128 KB at in = 1024) stays in L2 across them.
template <class Ops>
inline void panels_run(const typename Ops::X* x, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    const uint8_t* end = reinterpret_cast<const uint8_t*>(w.data.get()) + w.nbytes();
    for (int pi = p0; pi < p1; ++pi)
        for (int m0 = 0; m0 < M; m0 += 4) {
            switch (M - m0 < 4 ? M - m0 : 4) {
                case 4: panel_rows<Ops, 4>(x, w, y, m0, pi, end); break;
                case 3: panel_rows<Ops, 3>(x, w, y, m0, pi, end); break;
                case 2: panel_rows<Ops, 2>(x, w, y, m0, pi, end); break;
                default: panel_rows<Ops, 1>(x, w, y, m0, pi, end); break;
            }
        }
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
