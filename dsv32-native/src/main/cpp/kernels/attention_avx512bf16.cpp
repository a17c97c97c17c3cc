// attention_avx512bf16.cpp: the AVX512-BF16 kernels of the fp8 numerics' absorbed MLA decode attention (attention.h:
// mla_scores_bf16q, mla_values_bf16p; architecture.md §6.3, §6.5). Compiled with the AVX512-BF16 flags
// (CMakeLists.txt) and called only when the CPU has them (bf16_dot_enabled()). Reference: the f32 kernels on the
// same values (mla_scores_scalar / mla_values_scalar), which test_kernels compares these against.
//
// Every operand is a bf16 (the query and probabilities as the demo rounds them, the cached rows as stored), so
// VDPBF16PS forms each product exactly in f32 and only the f32 sums round; what differs from the f32 kernels is the
// order of the sums: each score one chain over the column pairs, two keys per step in the values.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/convert_avx512.h"
#include "kernels/mla_scores_avx512.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

inline __mmask32 tail_mask32(int n) { return n >= 32 ? __mmask32(0xFFFFFFFFu) : __mmask32((1u << n) - 1u); }

inline __m512bh load_bf16(__mmask32 m, const uint16_t* p) { return (__m512bh)_mm512_maskz_loadu_epi16(m, p); }

// The bf16 scores block (mla_scores_avx512.h): packed bf16 queries and rows, 32 columns (16 pairs, one 64-byte line of
// a row) a step, VDPBF16PS; prefetches into L2.
struct Bf16Scores {
    using Q = uint16_t;
    using K = uint16_t;
    static constexpr int kStep = 32;
    static constexpr auto kHint = _MM_HINT_T1;
    static __mmask32 mask(int n) { return tail_mask32(n); }
    static __m512bh load_q(__mmask32 m, const uint16_t* p) { return load_bf16(m, p); }
    static __m512bh load_k(__mmask32 m, const uint16_t* p) { return load_bf16(m, p); }
    static __m512 mac(__m512 a, __m512bh q, __m512bh k) { return _mm512_dpbf16_ps(a, q, k); }
};

// o_lat[g][c .. c + 32) (clipped at c1) for G heads, the keys two at a time: rows j and j + 1 interleaved into column
// pairs (VPUNPCK{L,H}WD, within 128-bit lanes: lo holds columns {0-3, 8-11, 16-19, 24-27} of the step, hi the others),
// each head's (p[j], p[j + 1]) broadcast as one dword; an odd last key pairs with a zero row and a zero probability.
// Per key pair: 2 row loads, 2 interleaves and G broadcasts feed 2 G dot products. The lanes go back to column order
// on the store. With 0 < split < nkeys, the keys [0, split) so, stored, then [split, nkeys) from zero again (its pairs
// from split on), added to what was stored (attention.h).
template <int G>
inline void values_group(const uint16_t* p, size_t pstride, int kvr, const uint16_t* const* lat, int nkeys, int c, int c1,
                         float* o_lat, int split) {
    const __mmask32 m = tail_mask32(c1 - c);
    // lo lane 4b + i is column 8b + i, hi lane 4b + i column 8b + 4 + i.
    const __m512i first = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
    const __m512i second = _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
    const __mmask16 m0 = tail_mask(c1 - c), m1 = c1 - c > 16 ? tail_mask(c1 - c - 16) : __mmask16(0);
    constexpr int AHEAD = 16;  // keys: the rows are scattered over the cache, one line of each read here
    const int s = split > 0 && split < nkeys ? split : nkeys;
    for (int half = 0; half < (s < nkeys ? 2 : 1); ++half) {  // the keys [0, s), then [s, nkeys)
        const int j1 = half ? nkeys : s;
        __m512 lo[G], hi[G];
        DSV32_UNROLL
        for (int g = 0; g < G; ++g) lo[g] = hi[g] = _mm512_setzero_ps();
        int j = half ? s : 0;
        for (; j + 2 <= j1; j += 2) {
            if (j + AHEAD + 1 < nkeys) {
                _mm_prefetch(reinterpret_cast<const char*>(lat[j + AHEAD] + c), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(lat[j + AHEAD + 1] + c), _MM_HINT_T0);
            }
            const __m512i r0 = _mm512_maskz_loadu_epi16(m, lat[j] + c), r1 = _mm512_maskz_loadu_epi16(m, lat[j + 1] + c);
            const __m512bh vl = (__m512bh)_mm512_unpacklo_epi16(r0, r1), vh = (__m512bh)_mm512_unpackhi_epi16(r0, r1);
            DSV32_UNROLL
            for (int g = 0; g < G; ++g) {
                uint32_t pp;
                std::memcpy(&pp, p + size_t(g) * pstride + size_t(j), 4);
                const __m512bh pv = (__m512bh)_mm512_set1_epi32(int(pp));
                lo[g] = _mm512_dpbf16_ps(lo[g], pv, vl);
                hi[g] = _mm512_dpbf16_ps(hi[g], pv, vh);
            }
        }
        if (j < j1) {
            const __m512i r0 = _mm512_maskz_loadu_epi16(m, lat[j] + c), r1 = _mm512_setzero_si512();
            const __m512bh vl = (__m512bh)_mm512_unpacklo_epi16(r0, r1), vh = (__m512bh)_mm512_unpackhi_epi16(r0, r1);
            DSV32_UNROLL
            for (int g = 0; g < G; ++g) {
                const __m512bh pv = (__m512bh)_mm512_set1_epi32(int(p[size_t(g) * pstride + size_t(j)]));
                lo[g] = _mm512_dpbf16_ps(lo[g], pv, vl);
                hi[g] = _mm512_dpbf16_ps(hi[g], pv, vh);
            }
        }
        DSV32_UNROLL
        for (int g = 0; g < G; ++g) {
            float* o = o_lat + size_t(g) * size_t(kvr) + size_t(c);
            __m512 v0 = _mm512_permutex2var_ps(lo[g], first, hi[g]), v1 = _mm512_permutex2var_ps(lo[g], second, hi[g]);
            if (half) {
                v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, o), v0);
                v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, o + 16), v1);
            }
            _mm512_mask_storeu_ps(o, m0, v0);
            _mm512_mask_storeu_ps(o + 16, m1, v1);
        }
    }
}

}  // namespace

namespace {

// ---- Scores with the heads along the lanes (mla_scores_bf16dot) ----
//
// For a group of up to 16 heads, qB [P][16] holds in lane h the bf16 pair (q[2i], q[2i + 1]) of head h0 + h, over the
// P = ceil(kvr / 2) pairs of q_lat and then the ceil(dr / 2) of q_pe (an odd width's last column pairs with 0). A pass
// takes SK keys: per pair one query load and SK broadcasts of the keys' pairs (one dword each) feed SK dot products, and
// SK accumulators end with the scores of SK keys for all the group's heads. On mini's shapes (512 keys, one core, rows in
// L2) this runs at 80 % of the VDPBF16PS peak (3.67 a ns on the 2-vCPU EPYC), the 4 x 4 blocks of mla_scores_4x4 at 58 %
// (8 full-vector loads per 16 dot products there); with the rows in memory 60-78 us a call against 82-108.
//
// One score s[h][j] is one chain over the pairs in order, acc = dp(acc, q pair, k pair), then acc * scale: the same
// bits whatever the keys' split, the heads' grouping (a lane is its own chain) or the thread.
constexpr int SK = 8;        // keys per pass
constexpr int MAX_PAIRS = 512;  // qB on the stack (32 KB); wider queries take the 4 x 4 blocks

inline uint32_t pair_at(const uint16_t* row, int i) {  // the dword of columns 2i, 2i + 1 (rows need not be 4-aligned)
    uint32_t v;
    std::memcpy(&v, row + 2 * i, 4);
    return v;
}

// qB rows [0, (width + 1) / 2) from the group's query rows q[h] (width bf16 each; lanes ng.. zero).
inline void build_pairs(const uint16_t* const* q, int ng, int width, uint32_t* qB) {
    const int P = width / 2;
    for (int i0 = 0; i0 < P; i0 += 16) {
        const __mmask16 m = tail_mask(P - i0);
        __m512 r[16];
        for (int h = 0; h < 16; ++h)
            r[h] = h < ng ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi32(m, q[h] + 2 * i0)) : _mm512_setzero_ps();
        transpose16(r);  // r[i] lane h: head h's pair i0 + i
        for (int i = 0; i < std::min(16, P - i0); ++i) _mm512_store_ps(reinterpret_cast<float*>(qB + 16 * (i0 + i)), r[i]);
    }
    if (width % 2) {  // the last column with a zero partner
        alignas(64) uint32_t last[16] = {};
        for (int h = 0; h < ng; ++h) last[h] = q[h][width - 1];
        _mm512_store_si512(qB + 16 * P, _mm512_load_si512(last));
    }
}

// a[j] += the pairs of one part (the latent or the rope columns, width wide) of key rows r[j]; one line of each of the
// rows nx[j] (the next pass's keys) requested per 16 pairs passed.
__attribute__((always_inline)) inline void score_pairs(const uint32_t* qB, const uint16_t* const* r, int width,
                                                       const uint16_t* const* nx, __m512* a) {
    const int P = width / 2;
    for (int i0 = 0; i0 < P; i0 += 16) {
        DSV32_UNROLL
        for (int j = 0; j < SK; ++j) _mm_prefetch(reinterpret_cast<const char*>(nx[j] + 2 * i0), _MM_HINT_T1);
        const int i1 = std::min(P, i0 + 16);
        for (int i = i0; i < i1; ++i) {
            const __m512bh qv = (__m512bh)_mm512_load_si512(qB + 16 * i);
            DSV32_UNROLL
            for (int j = 0; j < SK; ++j) a[j] = _mm512_dpbf16_ps(a[j], qv, (__m512bh)_mm512_set1_epi32(int(pair_at(r[j], i))));
        }
    }
    if (width % 2) {
        const __m512bh qv = (__m512bh)_mm512_load_si512(qB + 16 * P);
        DSV32_UNROLL
        for (int j = 0; j < SK; ++j) a[j] = _mm512_dpbf16_ps(a[j], qv, (__m512bh)_mm512_set1_epi32(int(r[j][width - 1])));
    }
}

// The qB of heads [h0, h0 + ng) (ng <= 16): their latent pairs, then from 16 * ((kvr + 1) / 2) on their rope pairs.
inline void build_group_pairs(const uint16_t* q_lat, const uint16_t* q_pe, int h0, int ng, int kvr, int dr, uint32_t* qB) {
    const uint16_t* ql[16];
    const uint16_t* qp[16];
    for (int h = 0; h < ng; ++h) {
        ql[h] = q_lat + size_t(h0 + h) * size_t(kvr);
        qp[h] = q_pe + size_t(h0 + h) * size_t(dr);
    }
    build_pairs(ql, ng, kvr, qB);
    build_pairs(qp, ng, dr, qB + 16 * ((kvr + 1) / 2));
}

// The 4 x 4 blocks (mla_scores_4x4) for queries wider than MAX_PAIRS pairs.
void mla_scores_blocks(const uint16_t* q_lat, const uint16_t* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                       const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    // The f32 kernel's blocking (attention_avx512.cpp, mla_scores_rows): key super-blocks of SB outermost, groups of 4
    // heads over their 4-key blocks. The rows come from memory (the selection is scattered over the cache) and the
    // dot products take half the f32 kernel's time, so the prefetches of the next super-block's rows are spread over
    // all of this one's passes: pass ci fetches keys s1 + ci * per (one line a step each). On mini (16 heads: 16
    // passes of 18 steps per super-block) that is one line a step; prefetching during the first group's passes only,
    // as the f32 kernel does, left the dot products waiting for memory. The first DIST keys are requested at once.
    constexpr int SB = 16, DIST = 8;
    for (int j = 0; j < std::min(DIST, nkeys); ++j) {
        for (int c = 0; c < kvr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(lat[j] + c), _MM_HINT_T0);
        for (int c = 0; c < dr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(pe[j] + c), _MM_HINT_T0);
    }
    const __m512 sv = _mm512_set1_ps(scale);
    const int groups = (nh + 3) / 4;
    for (int s0 = 0; s0 < nkeys; s0 += SB) {
        const int s1 = std::min(nkeys, s0 + SB);
        const int passes = groups * ((s1 - s0 + 3) / 4);
        const int per = std::min(4, (SB + passes - 1) / passes);  // keys prefetched per pass
        int ci = 0;
        for (int h0 = 0; h0 < nh; h0 += 4) {
            const int ng = std::min(4, nh - h0);
            const uint16_t* ql[4];
            const uint16_t* qp[4];
            block_heads(q_lat, q_pe, kvr, dr, h0, ng, ql, qp);
            for (int j0 = s0; j0 < s1; j0 += 4, ++ci) {
                const int nj = std::min(4, s1 - j0);
                const uint16_t* l[4];
                const uint16_t* e[4];
                const uint16_t* fl[4];
                const uint16_t* fe[4];
                block_keys(lat, pe, j0, nj, l, e);
                for (int u = 0; u < 4; ++u) {
                    const int f = s1 + ci * per + u;
                    const bool want = u < per && ci * per < SB && f < nkeys;
                    fl[u] = want ? lat[f] : nullptr;
                    fe[u] = want ? pe[f] : nullptr;
                }
                __m512 r;
                mla_scores_4x4<Bf16Scores>(ql, qp, kvr, dr, l, e, &r, fl, fe);
                store_block(_mm512_mul_ps(r, sv), ng, nj, p + size_t(h0) * pstride + size_t(j0), pstride);  // heads h0 + g
            }
        }
    }
}

}  // namespace

void mla_scores_bf16dot(const uint16_t* q_lat, const uint16_t* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                        const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    const int P1 = (kvr + 1) / 2, P = P1 + (dr + 1) / 2;
    if (P > MAX_PAIRS) return mla_scores_blocks(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
    if (nkeys <= 0) return;
    alignas(64) uint32_t qB[16 * MAX_PAIRS];
    // The first pass's rows, requested at once (the selection is scattered over the cache).
    for (int j = 0; j < std::min(SK, nkeys); ++j) {
        for (int c = 0; c < kvr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(lat[j] + c), _MM_HINT_T0);
        for (int c = 0; c < dr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(pe[j] + c), _MM_HINT_T0);
    }
    const __m512 sv = _mm512_set1_ps(scale);
#if defined(DSV32_AMX_KERNELS)
    if (amx_enabled() && kvr % 32 == 0 && dr % 32 == 0) {  // every group's pairs first: the keys are then copied once
        thread_local std::vector<uint32_t> qall;
        uint32_t* qa = aligned_scratch(qall, size_t((nh + 15) / 16) * 16 * size_t(P));
        for (int h0 = 0; h0 < nh; h0 += 16) build_group_pairs(q_lat, q_pe, h0, std::min(16, nh - h0), kvr, dr, qa + size_t(h0) * size_t(P));
        return mla_scores_amx(qa, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
    }
#endif
    for (int h0 = 0; h0 < nh; h0 += 16) {
        const int ng = std::min(16, nh - h0);
        build_group_pairs(q_lat, q_pe, h0, ng, kvr, dr, qB);
        for (int j0 = 0; j0 < nkeys; j0 += 2 * SK) {
            __m512 acc[2 * SK];
            for (int half = 0; half < 2; ++half) {
                __m512* a = acc + SK * half;
                const int b0 = j0 + SK * half;
                for (int j = 0; j < SK; ++j) a[j] = _mm512_setzero_ps();
                if (b0 >= nkeys) continue;
                // This pass's keys (a short pass repeats its last key; those lanes are not stored) and the next pass's
                // (the next group's first keys after the last pass; none past the end: the row itself again).
                const uint16_t *l[SK], *e[SK], *nl[SK], *ne[SK];
                for (int j = 0; j < SK; ++j) {
                    const int k = std::min(b0 + j, nkeys - 1);
                    l[j] = lat[k];
                    e[j] = pe[k];
                    int n = b0 + SK + j;
                    if (n >= nkeys) n = h0 + 16 < nh ? std::min(j, nkeys - 1) : k;
                    nl[j] = lat[n];
                    ne[j] = pe[n];
                }
                score_pairs(qB, l, kvr, nl, a);
                score_pairs(qB + 16 * P1, e, dr, ne, a);
            }
            transpose16(acc);  // acc[h] lane j: head h0 + h, key j0 + j
            const __mmask16 km = tail_mask(nkeys - j0);
            for (int h = 0; h < ng; ++h)
                _mm512_mask_storeu_ps(p + size_t(h0 + h) * pstride + size_t(j0), km, _mm512_mul_ps(acc[h], sv));
        }
    }
}

void mla_values_bf16dot(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                        int c1, float* o_lat, int split) {
#if defined(DSV32_AMX_KERNELS)
    if (amx_enabled()) return mla_values_amx(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
#endif
    for (int h = 0; h < nh;) {
        const int g = nh - h >= 8 ? 8 : nh - h >= 4 ? 4 : nh - h >= 2 ? 2 : 1;
        const uint16_t* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        for (int c = c0; c < c1; c += 32) {
            switch (g) {
                case 8: values_group<8>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 4: values_group<4>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 2: values_group<2>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                default: values_group<1>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
            }
        }
        h += g;
    }
}

}  // namespace kernels
}  // namespace dsv32
