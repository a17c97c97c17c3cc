// mla_scores_avx512.h: the register block of the absorbed MLA decode scores (attention.h, mla_scores*), shared by the
// f32 kernels (attention_avx512.cpp: f32 queries, f32 or packed bf16 rows, fused multiply-adds) and the fp8 numerics'
// bf16 kernels (attention_avx512bf16.cpp: packed bf16 queries and rows, VDPBF16PS). Included only by files compiled
// with the AVX-512 -m flags; internal linkage (anonymous namespace), as convert_avx512.h.
#ifndef DSV32_KERNELS_MLA_SCORES_AVX512_H
#define DSV32_KERNELS_MLA_SCORES_AVX512_H

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/convert_avx512.h"

namespace dsv32 {
namespace kernels {
namespace {

// Scores of 4 keys x 4 heads in one pass: 16 chains a[4g + u] (head g, key u) over the kvr latent columns, then the dr
// rope columns, Ops::kStep columns a step: per step 4 key and 4 query loads feed 16 multiply-accumulates
// (Ops::mac). The 16 lane sums come out of one transposing reduction (reduce16), so no chain is reduced on its own.
// Every score is computed the same way whatever block it falls in: short blocks repeat their last key / head (results
// unused). (16 named accumulators: GCC keeps an array of them in registers but also stores it on every pass.) pl / pe
// (null: none; an entry null: that key none): up to 4 later keys whose rows are prefetched along the way (Ops::kHint),
// one line of each at the start of every cache line of columns passed. A last partial step: the missing columns add
// 0 * 0.
//
// Ops (F32Scores in attention_avx512.cpp, Bf16Scores in attention_avx512bf16.cpp): Q / K the query and row element
// types; kStep; kHint; mask(n) (the first n columns of a step); load_q / load_k (masked loads); mac(acc, q, k).
template <class Ops>
inline void mla_scores_4x4(const typename Ops::Q* const* ql, const typename Ops::Q* const* qp, int kvr, int dr,
                           const typename Ops::K* const* l, const typename Ops::K* const* e, __m512* out,
                           const typename Ops::K* const* pl = nullptr, const typename Ops::K* const* pe = nullptr) {
    using Q = typename Ops::Q;
    using K = typename Ops::K;
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    for (int part = 0; part < 2; ++part) {  // the latent columns, then the rope columns
        const Q* const* q = part == 0 ? ql : qp;
        const K* const* rows = part == 0 ? l : e;
        const Q *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3];
        const K *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
        const int width = part == 0 ? kvr : dr;
        const K* const* pf = part == 0 ? pl : pe;
        for (int c = 0; c < width; c += Ops::kStep) {
            const auto m = Ops::mask(width - c);
            if (pf && (size_t(c) * sizeof(K)) % 64 == 0)
                for (int u = 0; u < 4; ++u)
                    if (pf[u]) _mm_prefetch(reinterpret_cast<const char*>(pf[u] + c), Ops::kHint);
            const auto k0 = Ops::load_k(m, r0 + c), k1 = Ops::load_k(m, r1 + c);
            const auto k2 = Ops::load_k(m, r2 + c), k3 = Ops::load_k(m, r3 + c);
#define DSV32_HEAD(g, qg)                           \
    {                                               \
        const auto qv = Ops::load_q(m, qg + c);     \
        a##g##0 = Ops::mac(a##g##0, qv, k0);        \
        a##g##1 = Ops::mac(a##g##1, qv, k1);        \
        a##g##2 = Ops::mac(a##g##2, qv, k2);        \
        a##g##3 = Ops::mac(a##g##3, qv, k3);        \
    }
            DSV32_HEAD(0, q0)
            DSV32_HEAD(1, q1)
            DSV32_HEAD(2, q2)
            DSV32_HEAD(3, q3)
#undef DSV32_HEAD
        }
    }
    const __m512 a[16] = {a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33};
    *out = reduce16(a);
}

// The queries of a 4 x 4 block: heads h0 .. h0 + ng - 1 of q_lat [nh][kvr] / q_pe [nh][dr] (ng in 1..4; a short group
// repeats its last head).
template <typename Q>
inline void block_heads(const Q* q_lat, const Q* q_pe, int kvr, int dr, int h0, int ng, const Q** ql, const Q** qp) {
    for (int g = 0; g < 4; ++g) {
        const int h = h0 + std::min(g, ng - 1);
        ql[g] = q_lat + size_t(h) * size_t(kvr);
        qp[g] = q_pe + size_t(h) * size_t(dr);
    }
}

// The keys of a 4 x 4 block (the rows of keys j0 .. j0 + nj - 1, nj in 1..4; a short block repeats its last key).
template <typename K>
inline void block_keys(const K* const* lat, const K* const* pe, int j0, int nj, const K** l, const K** e) {
    for (int u = 0; u < 4; ++u) {
        const int j = j0 + std::min(u, nj - 1);
        l[u] = lat[j];
        e[u] = pe[j];
    }
}

// Stores a 4 x 4 block's scores r (lane 4g + u: query or head g, key u) at p[g * stride + u] for g < ng, u < nj.
inline void store_block(__m512 r, int ng, int nj, float* p, size_t stride) {
    const __mmask8 km = __mmask8((1u << nj) - 1u);
    for (int g = 0; g < ng; ++g)
        _mm_mask_storeu_ps(p + size_t(g) * stride, km, _mm512_castps512_ps128(_mm512_maskz_compress_ps(__mmask16(0xFu << (4 * g)), r)));
}

}  // namespace
}  // namespace kernels
}  // namespace dsv32

#endif
