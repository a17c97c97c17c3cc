// panels_avx2.cpp: the row-panel GEMV (panels.h) on the AVX2 path, for an f32 x. Compiled with -mavx2 -mfma
// (CMakeLists.txt) and called only on the Avx2 kernel path. Reference: linear_panels_scalar(..., bf16dot = false), which
// it equals bitwise (test_kernels), as does the AVX-512 f32 kernel: one fused chain per output over the columns in order.
//
// Why: on this path the bf16 head ran through the row kernels of kernels::linear, which widen every weight, reload x
// for every row and sum each output's lanes at its end; at batch 4 that was a third of mini's fp8 decode step. Here the
// lanes are 8 rows of a panel: per column pair a panel line (16 rows) widens into its even and odd columns, and each row
// of x adds two broadcasts times them.
//
// A pass covers RG of a panel's 8 row vectors (8 rows each) against MG rows of x: RG * MG accumulators. At M = 1 one
// pass reads the whole panel, at M = 4 four passes each read every fourth line of it (the lines of 16 of its rows), so
// every line is still read once, from memory, and x's rows from L1.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/panels.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

constexpr int ROW_VECS = PANEL_ROWS / 8;  // 8 rows a vector
constexpr int AHEAD_Q = 32;               // column pairs (8 KB of a panel) requested ahead

// Column pairs [q0, q1) of row vectors [v0, v0 + RG) of a panel against rows xr of x, continuing the chains in acc
// [MG][RG][8]. With ahead set (the first pass of a chunk) the panel's lines AHEAD_Q column pairs on are requested into
// L2: all four of a pair where the passes stride through the panel (M = 1 and 8 KB ahead: 5 % faster than the row
// kernels over mini's head, one line a pair; at M = 4, 12.7 ms against 21 with one line a pair; on the 2-vCPU EPYC).
template <int RG, int MG>
void panel_pass(const float* const* xr, const uint32_t* panel, const uint32_t* end, int q0, int q1, int v0, float* acc,
                bool ahead) {
    const uint32_t* p = panel + size_t(v0) * 8;
    __m256 a[MG][RG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int r = 0; r < RG; ++r) a[m][r] = _mm256_load_ps(acc + (m * RG + r) * 8);
    const __m256i high = _mm256_set1_epi32(int(0xFFFF0000u));
    for (int q = q0; q < q1; ++q) {
        const uint32_t* pq = p + size_t(q) * PANEL_ROWS;
        if (ahead) {  // AHEAD_Q column pairs on: one line of them in a single pass, all four where passes stride
            constexpr int LINES = RG == ROW_VECS ? 1 : 4;
            const size_t at = size_t(q + AHEAD_Q) * PANEL_ROWS;  // from the panel's start, compared before it is formed
            if (at < size_t(end - panel))
                DSV32_UNROLL
                for (int l = 0; l < LINES; ++l) _mm_prefetch(reinterpret_cast<const char*>(panel + at + 16 * l), _MM_HINT_T1);
        }
        if constexpr (MG * RG >= 12) {  // 12 chains: each panel vector widened as it is used, x's broadcasts loaded per use
            DSV32_UNROLL
            for (int r = 0; r < RG; ++r) {
                const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(pq + 8 * r));
                const __m256 even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
                const __m256 odd = _mm256_castsi256_ps(_mm256_and_si256(v, high));
                DSV32_UNROLL
                for (int m = 0; m < MG; ++m) {
                    a[m][r] = _mm256_fmadd_ps(even, _mm256_broadcast_ss(xr[m] + 2 * q), a[m][r]);
                    a[m][r] = _mm256_fmadd_ps(odd, _mm256_broadcast_ss(xr[m] + 2 * q + 1), a[m][r]);
                }
            }
        } else if constexpr (MG <= 2) {  // x's broadcasts held, each panel vector widened as it is used
            __m256 xe[MG], xo[MG];
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                xe[m] = _mm256_broadcast_ss(xr[m] + 2 * q);
                xo[m] = _mm256_broadcast_ss(xr[m] + 2 * q + 1);
            }
            DSV32_UNROLL
            for (int r = 0; r < RG; ++r) {
                const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(pq + 8 * r));
                const __m256 even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));  // column 2q: the low half
                const __m256 odd = _mm256_castsi256_ps(_mm256_and_si256(v, high));   // column 2q + 1
                DSV32_UNROLL
                for (int m = 0; m < MG; ++m) {
                    a[m][r] = _mm256_fmadd_ps(even, xe[m], a[m][r]);
                    a[m][r] = _mm256_fmadd_ps(odd, xo[m], a[m][r]);
                }
            }
        } else {  // the panel vectors widened first, then x's broadcasts one row at a time (16 registers)
            __m256 even[RG], odd[RG];
            DSV32_UNROLL
            for (int r = 0; r < RG; ++r) {
                const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(pq + 8 * r));
                even[r] = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
                odd[r] = _mm256_castsi256_ps(_mm256_and_si256(v, high));
            }
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                const __m256 xe = _mm256_broadcast_ss(xr[m] + 2 * q), xo = _mm256_broadcast_ss(xr[m] + 2 * q + 1);
                DSV32_UNROLL
                for (int r = 0; r < RG; ++r) {
                    a[m][r] = _mm256_fmadd_ps(even[r], xe, a[m][r]);
                    a[m][r] = _mm256_fmadd_ps(odd[r], xo, a[m][r]);
                }
            }
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int r = 0; r < RG; ++r) _mm256_store_ps(acc + (m * RG + r) * 8, a[m][r]);
}

// Panel pi against rows [m0, m0 + MG) of x, in passes of RG0 row vectors (the last pass what is left, at least RG0 - 1
// of them: 8 = 4 + 4, 3 + 3 + 2, 8): chunks of CHUNK column pairs (16 KB of the panel), each taken by all the passes
// before the next, so that the panel is still read from memory in order (a pass alone would stride through it) while
// the chains live in a small buffer between passes (stored and reloaded exactly).
template <int RG0, int MG>
void panel_rows(const float* x, const Bf16Panels& w, float* y, int m0, int pi) {
    constexpr int CHUNK = 64, PASSES = (ROW_VECS + RG0 - 1) / RG0, LAST = ROW_VECS - (PASSES - 1) * RG0;
    static_assert(LAST == RG0 || LAST == RG0 - 1, "pass schedule");
    const int Q = w.in / 2, n0 = pi * PANEL_ROWS;
    const uint32_t* panel = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
    const uint32_t* end = w.data.get() + size_t(w.panels()) * size_t(Q) * PANEL_ROWS;
    const float* xr[MG];
    for (int m = 0; m < MG; ++m) xr[m] = x + size_t(m0 + m) * size_t(w.in);
    int passes = 0;  // those with rows below out
    while (passes < PASSES && n0 + passes * RG0 * 8 < w.out) ++passes;
    alignas(32) float acc[PASSES][MG * RG0 * 8] = {};
    for (int q0 = 0; q0 < Q; q0 += CHUNK) {
        const int q1 = std::min(Q, q0 + CHUNK);
        for (int s = 0; s < passes; ++s) {
            if (s == PASSES - 1 && LAST != RG0) panel_pass<(LAST == RG0 ? RG0 : RG0 - 1), MG>(xr, panel, end, q0, q1, s * RG0, acc[s], s == 0);
            else panel_pass<RG0, MG>(xr, panel, end, q0, q1, s * RG0, acc[s], s == 0);
        }
    }
    for (int s = 0; s < passes; ++s) {
        const int rg = s == PASSES - 1 ? LAST : RG0;
        for (int r = 0; r < rg; ++r) {
            const int n = n0 + (s * RG0 + r) * 8, left = std::min(8, w.out - n);  // rows past out are not stored
            if (left <= 0) break;
            for (int m = 0; m < MG; ++m) std::copy_n(acc[s] + (m * rg + r) * 8, left, y + size_t(m0 + m) * size_t(w.out) + size_t(n));
        }
    }
}

}  // namespace

void linear_panels_avx2(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    for (int pi = p0; pi < p1; ++pi)
        for (int m0 = 0; m0 < M; m0 += 4) {
            switch (std::min(4, M - m0)) {  // 8 or 12 chains a pass
                case 4: panel_rows<3, 4>(x, w, y, m0, pi); break;
                case 3: panel_rows<4, 3>(x, w, y, m0, pi); break;
                case 2: panel_rows<4, 2>(x, w, y, m0, pi); break;
                default: panel_rows<8, 1>(x, w, y, m0, pi); break;
            }
        }
}

}  // namespace kernels
}  // namespace dsv32
