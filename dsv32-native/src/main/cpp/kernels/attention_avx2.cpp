// attention_avx2.cpp: the AVX2 path's attention kernels (attention.h) for the engine's shapes. Compiled with -mavx2
// -mfma -ffp-contract=off (CMakeLists.txt); called only when the CPU has them.
//
// The scores (the indexer's and the absorbed MLA decode's) run with the heads along the lanes: each q . k is one
// chain of fused multiply-adds over the columns in order (the MLA's over the latent's columns, then the rope's), each
// lane its own chain, so a score does not depend on how keys or heads are grouped into calls. The indexer then adds
// its heads' ReLU terms lane-wise, in 8-lane vectors of consecutive heads (tot = fma(ReLU(s_v), w_v, tot) for v = 0, 1,
// ...; heads past nh are zero lanes), and sums the 8 lanes (reduce_avx2.h). Rows of packed bf16 (the fp8 numerics'
// cache) are read as they are: the same bits as on their f32 values. test_kernels checks these orders bitwise against
// scalar oracles written in them.
//
// The values are bitwise the AVX2 path's reference composition (attention.cpp: the scalar loop with its updates
// through axpy_avx2), keeping 32 columns of two heads' output (or 64 of one) in registers over the keys instead of
// loading and storing them for every key; a column range not a multiple of 8 returns false and the caller takes the
// composition. No contraction in this file: its scalar arithmetic rounds as written.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/reduce_avx2.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

// ---- Scores with the heads along the lanes (index_scores_avx2, mla_scores_avx2) ----
//
// A group of 16 heads (two vectors; heads past the last are zero lanes) is transposed once per call into qT [n][16]
// (lane h of row i: the group's head h, column i). A pass takes KQ keys: per column two loads of qT and one broadcast
// of each key's element feed 2 * KQ fused multiply-adds, so a score is one chain over the columns in order and each
// lane is its own chain: the same bits whatever the keys' grouping, the split of keys or heads over calls, or the
// thread. Before (a pair of heads and a pair of keys per step, dot_avx2's two chains over 16 columns and a horizontal
// sum per score), the 16 query rows of the MLA scores did not fit L1 beside the keys and every multiply-add waited on a
// load: mini's fp8 decode on this path spent more time there than in any kernel but the batch GEMV.
constexpr int KQ = 4;  // keys per pass: 2 * KQ accumulators, 2 query vectors and the broadcasts fit the 16 registers

// In place: r[c] lane u becomes the old r[u] lane c.
inline void transpose8(__m256* r) {
    __m256 t[8], s[8];
    for (int k = 0; k < 4; ++k) {  // (a0 b0 a1 b1 | a4 b4 a5 b5), (a2 b2 a3 b3 | a6 b6 a7 b7) of rows 2k, 2k + 1
        t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // rows 4k .. 4k + 3 of columns c and c + 4, for c = 0 .. 3
        s[4 * k + 0] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
        s[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
        s[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
        s[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
    }
}

// qT [n][16] from the rows q + h * ld (h < ng <= 16), columns [0, n); lanes ng .. 15 zero. qT 32-byte aligned.
inline void transpose_group(const float* q, size_t ld, int ng, int n, float* qT) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int half = 0; half < 2; ++half) {
            __m256 r[8];
            for (int u = 0; u < 8; ++u) {
                const int h = 8 * half + u;
                r[u] = h < ng ? _mm256_loadu_ps(q + size_t(h) * ld + size_t(i)) : _mm256_setzero_ps();
            }
            transpose8(r);
            for (int c = 0; c < 8; ++c) _mm256_store_ps(qT + size_t(i + c) * 16 + 8 * half, r[c]);
        }
    for (; i < n; ++i)
        for (int h = 0; h < 16; ++h) qT[size_t(i) * 16 + size_t(h)] = h < ng ? q[size_t(h) * ld + size_t(i)] : 0.0f;
}

// acc[b][v] (lane u: the group's head 8v + u) += qT's column i times element i of row r[b], for i = 0 .. n-1 in order,
// one fused multiply-add each. nx[b]: the next pass's rows, one line of each requested per line of r passed.
inline void block_cols(const float* qT, const float* const* r, int n, const float* const* nx, __m256 (&acc)[KQ][2]) {
    for (int i = 0; i < n; ++i) {
        if (i % 16 == 0)
            DSV32_UNROLL
            for (int b = 0; b < KQ; ++b) _mm_prefetch(reinterpret_cast<const char*>(nx[b] + i), _MM_HINT_T0);
        const __m256 q0 = _mm256_load_ps(qT + 16 * size_t(i)), q1 = _mm256_load_ps(qT + 16 * size_t(i) + 8);
        DSV32_UNROLL
        for (int b = 0; b < KQ; ++b) {
            const __m256 k = _mm256_broadcast_ss(r[b] + i);
            acc[b][0] = _mm256_fmadd_ps(q0, k, acc[b][0]);
            acc[b][1] = _mm256_fmadd_ps(q1, k, acc[b][1]);
        }
    }
}
// The same over rows of packed bf16 (their exact f32 values): a pair of columns a broadcast, the low element shifted
// into place and the high one masked, then the two columns in order.
inline void block_cols(const float* qT, const uint16_t* const* r, int n, const uint16_t* const* nx, __m256 (&acc)[KQ][2]) {
    const __m256i high = _mm256_set1_epi32(int(0xFFFF0000u));
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        if (i % 32 == 0)
            DSV32_UNROLL
            for (int b = 0; b < KQ; ++b) _mm_prefetch(reinterpret_cast<const char*>(nx[b] + i), _MM_HINT_T0);
        const float* qi = qT + 16 * size_t(i);
        const __m256 q0 = _mm256_load_ps(qi), q1 = _mm256_load_ps(qi + 8), q2 = _mm256_load_ps(qi + 16), q3 = _mm256_load_ps(qi + 24);
        DSV32_UNROLL
        for (int b = 0; b < KQ; ++b) {
            uint32_t pair;
            std::memcpy(&pair, r[b] + i, 4);
            const __m256i t = _mm256_set1_epi32(int(pair));
            const __m256 lo = _mm256_castsi256_ps(_mm256_slli_epi32(t, 16)), hi = _mm256_castsi256_ps(_mm256_and_si256(t, high));
            acc[b][0] = _mm256_fmadd_ps(q0, lo, acc[b][0]);
            acc[b][1] = _mm256_fmadd_ps(q1, lo, acc[b][1]);
            acc[b][0] = _mm256_fmadd_ps(q2, hi, acc[b][0]);
            acc[b][1] = _mm256_fmadd_ps(q3, hi, acc[b][1]);
        }
    }
    if (i < n) {
        const __m256 q0 = _mm256_load_ps(qT + 16 * size_t(i)), q1 = _mm256_load_ps(qT + 16 * size_t(i) + 8);
        DSV32_UNROLL
        for (int b = 0; b < KQ; ++b) {
            const __m256 k = _mm256_castsi256_ps(_mm256_set1_epi32(int(uint32_t(r[b][i]) << 16)));
            acc[b][0] = _mm256_fmadd_ps(q0, k, acc[b][0]);
            acc[b][1] = _mm256_fmadd_ps(q1, k, acc[b][1]);
        }
    }
}

inline void zero(__m256 (&acc)[KQ][2]) {
    DSV32_UNROLL
    for (int b = 0; b < KQ; ++b) acc[b][0] = acc[b][1] = _mm256_setzero_ps();
}

// The pass over keys [t0, t0 + KQ) of n: r[b] the rows (a short pass repeats the last key; its lanes are not stored),
// nx[b] the next pass's (the last pass's own rows again).
template <class T>
inline void pass_rows(const T* const* keys, int t0, int n, const T** r, const T** nx) {
    for (int b = 0; b < KQ; ++b) {
        const int k = std::min(t0 + b, n - 1);
        r[b] = keys[k];
        nx[b] = keys[t0 + KQ + b < n ? t0 + KQ + b : k];
    }
}

template <class T>
void index_scores_lanes(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                        int hd, const T* const* keys, int nkeys) {
    const int groups = (nh + 15) / 16;
    thread_local std::vector<float> qbuf, wbuf;
    float* const qT = aligned_scratch(qbuf, size_t(groups) * 16 * size_t(hd));
    float* const wp = aligned_scratch(wbuf, size_t(groups) * 16);
    const __m256 zerov = _mm256_setzero_ps();
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        if (n <= 0) continue;
        for (int g = 0; g < groups; ++g)
            transpose_group(q[j] + size_t(16 * g) * size_t(hd), size_t(hd), std::min(16, nh - 16 * g), hd, qT + size_t(g) * 16 * size_t(hd));
        for (int h = 0; h < 16 * groups; ++h) wp[h] = h < nh ? w[j][h] : 0.0f;
        for (int t0 = 0; t0 < n; t0 += KQ) {
            const T *r[KQ], *nx[KQ];
            pass_rows(keys, t0, n, r, nx);
            __m256 tot[KQ];
            DSV32_UNROLL
            for (int b = 0; b < KQ; ++b) tot[b] = _mm256_setzero_ps();
            for (int g = 0; g < groups; ++g) {
                __m256 acc[KQ][2];
                zero(acc);
                block_cols(qT + size_t(g) * 16 * size_t(hd), r, hd, g == 0 ? nx : r, acc);
                const __m256 w0 = _mm256_load_ps(wp + 16 * g), w1 = _mm256_load_ps(wp + 16 * g + 8);
                DSV32_UNROLL
                for (int b = 0; b < KQ; ++b) {  // head vectors 2g, 2g + 1 in order
                    tot[b] = _mm256_fmadd_ps(_mm256_max_ps(acc[b][0], zerov), w0, tot[b]);
                    tot[b] = _mm256_fmadd_ps(_mm256_max_ps(acc[b][1], zerov), w1, tot[b]);
                }
            }
            for (int b = 0; b < std::min(KQ, n - t0); ++b) out[j][t0 + b] = hsum(tot[b]);
        }
    }
}

template <class T>
void mla_scores_lanes(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const T* const* lat, const T* const* pe,
                      int nkeys, float scale, float* p, size_t pstride) {
    if (nkeys <= 0) return;
    thread_local std::vector<float> qbuf;
    float* const qT = aligned_scratch(qbuf, 16 * size_t(kvr + dr));
    const __m256 sv = _mm256_set1_ps(scale);
    for (int h0 = 0; h0 < nh; h0 += 16) {
        const int ng = std::min(16, nh - h0);
        transpose_group(q_lat + size_t(h0) * size_t(kvr), size_t(kvr), ng, kvr, qT);
        transpose_group(q_pe + size_t(h0) * size_t(dr), size_t(dr), ng, dr, qT + 16 * size_t(kvr));
        for (int j0 = 0; j0 < nkeys; j0 += KQ) {
            const T *l[KQ], *e[KQ], *nl[KQ], *ne[KQ];
            pass_rows(lat, j0, nkeys, l, nl);
            pass_rows(pe, j0, nkeys, e, ne);
            __m256 acc[KQ][2];
            zero(acc);
            block_cols(qT, l, kvr, nl, acc);  // the latent's columns, then the rope's: one chain
            block_cols(qT + 16 * size_t(kvr), e, dr, ne, acc);
            alignas(32) float s[KQ][16];
            DSV32_UNROLL
            for (int b = 0; b < KQ; ++b) {
                _mm256_store_ps(s[b], _mm256_mul_ps(acc[b][0], sv));
                _mm256_store_ps(s[b] + 8, _mm256_mul_ps(acc[b][1], sv));
            }
            const int nb = std::min(KQ, nkeys - j0);
            for (int h = 0; h < ng; ++h)
                for (int b = 0; b < nb; ++b) p[size_t(h0 + h) * pstride + size_t(j0 + b)] = s[b][h];
        }
    }
}

// o[0, 8V) = the sum over keys [0, j1) of ph[j] * lat[j][c .. c + 8V), in key order (axpy_avx2's fused multiply-add
// per key), then (add) the sum over [j1, j2) taken apart from zero where j1 < j2.
template <int V>
inline void values_cols(const float* ph, const float* const* lat, int c, int j1, int j2, float* o) {
    __m256 acc[V];
    DSV32_UNROLL
    for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_ps();
    for (int j = 0; j < j1; ++j) {
        const __m256 a = _mm256_set1_ps(ph[j]);
        const float* r = lat[j] + c;
        DSV32_UNROLL
        for (int v = 0; v < V; ++v) acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 8 * v), acc[v]);
    }
    if (j1 < j2) {
        __m256 b[V];
        DSV32_UNROLL
        for (int v = 0; v < V; ++v) b[v] = _mm256_setzero_ps();
        for (int j = j1; j < j2; ++j) {
            const __m256 a = _mm256_set1_ps(ph[j]);
            const float* r = lat[j] + c;
            DSV32_UNROLL
            for (int v = 0; v < V; ++v) b[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(r + 8 * v), b[v]);
        }
        DSV32_UNROLL
        for (int v = 0; v < V; ++v) acc[v] = _mm256_add_ps(acc[v], b[v]);
    }
    DSV32_UNROLL
    for (int v = 0; v < V; ++v) _mm256_storeu_ps(o + 8 * v, acc[v]);
}

// Two heads' o[0, 32) over the same columns (values_cols' arithmetic for each: the keys [0, j1) in order, then the sum
// over [j1, j2) taken apart from zero and added): each row's four vectors loaded once for both heads.
inline void values_cols_pair(const float* ph0, const float* ph1, const float* const* lat, int c, int j1, int j2, float* o0,
                             float* o1) {
    constexpr int V = 4;
    for (int half = 0; half < 2; ++half) {
        const int ja = half ? j1 : 0, jb = half ? j2 : j1;
        if (half && ja >= jb) break;
        __m256 a0[V], a1[V];
        DSV32_UNROLL
        for (int v = 0; v < V; ++v) a0[v] = a1[v] = _mm256_setzero_ps();
        for (int j = ja; j < jb; ++j) {
            const __m256 p0 = _mm256_set1_ps(ph0[j]), p1 = _mm256_set1_ps(ph1[j]);
            const float* r = lat[j] + c;
            DSV32_UNROLL
            for (int v = 0; v < V; ++v) {
                const __m256 l = _mm256_loadu_ps(r + 8 * v);
                a0[v] = _mm256_fmadd_ps(p0, l, a0[v]);
                a1[v] = _mm256_fmadd_ps(p1, l, a1[v]);
            }
        }
        DSV32_UNROLL
        for (int v = 0; v < V; ++v) {
            if (half) {  // the first half's sum plus this one
                a0[v] = _mm256_add_ps(_mm256_loadu_ps(o0 + 8 * v), a0[v]);
                a1[v] = _mm256_add_ps(_mm256_loadu_ps(o1 + 8 * v), a1[v]);
            }
            _mm256_storeu_ps(o0 + 8 * v, a0[v]);
            _mm256_storeu_ps(o1 + 8 * v, a1[v]);
        }
    }
}

// e^x for x <= 0 (softmax's x - max), 8 lanes: attention_avx512.cpp's exp_nonpositive (x = n ln2 + r, the Cephes
// polynomial, 2^n in the exponent field; under -87.3 gives 0, -inf 0, NaN stays NaN), the same operations.
inline __m256 exp_nonpositive(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(lo, x);  // NaN stays in x (max returns its second operand when either is NaN)
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    const __m256 r2 = _mm256_mul_ps(r, r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

// The first n of 8 lanes (all of them from n >= 8), as a maskload / maskstore mask.
inline __m256i lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

}  // namespace

void index_scores_avx2(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                       int hd, const float* const* keys, int nkeys) {
    index_scores_lanes(q, w, out, lim, nq, nh, hd, keys, nkeys);
}

void index_scores_avx2(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                       int hd, const uint16_t* const* keys, int nkeys) {
    index_scores_lanes(q, w, out, lim, nq, nh, hd, keys, nkeys);
}

void mla_scores_avx2(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                     const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    mla_scores_lanes(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

void mla_scores_avx2(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                     const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    mla_scores_lanes(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

bool mla_values_avx2(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split) {
    if ((c1 - c0) % 8 != 0) return false;
    const int s = split > 0 && split < nkeys ? split : nkeys;  // the first half's keys: [0, s)
    int h = 0;
    for (; h + 2 <= nh; h += 2) {  // pairs of heads: a row's loads serve both
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        int c = c0;
        for (; c + 32 <= c1; c += 32) values_cols_pair(ph, ph + pstride, lat, c, s, nkeys, o + c, o + kvr + c);
        for (; c < c1; c += 8) {
            values_cols<1>(ph, lat, c, s, nkeys, o + c);
            values_cols<1>(ph + pstride, lat, c, s, nkeys, o + kvr + c);
        }
    }
    for (; h < nh; ++h) {
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        int c = c0;
        for (; c + 64 <= c1; c += 64) values_cols<8>(ph, lat, c, s, nkeys, o + c);
        for (; c < c1; c += 8) values_cols<1>(ph, lat, c, s, nkeys, o + c);
    }
    return true;
}

void softmax_avx2(float* x, int n) {
    const float ninf = -std::numeric_limits<float>::infinity();
    __m256 mv = _mm256_set1_ps(ninf);
    int i = 0;
    for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(_mm256_loadu_ps(x + i), mv);  // NaN entries ignored, as the scalar
    alignas(32) float mvs[8];
    _mm256_store_ps(mvs, mv);
    float mx = ninf;
    for (float v : mvs) mx = v > mx ? v : mx;
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    if (mx == ninf) {  // all masked: define as zeros
        std::fill(x, x + n, 0.0f);
        return;
    }
    const __m256 m = _mm256_set1_ps(mx);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (i = 0; i < n; i += 8) {
        const __m256i k = lanes(n - i);
        const __m256 e = _mm256_and_ps(exp_nonpositive(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), m)), _mm256_castsi256_ps(k));
        _mm256_maskstore_ps(x + i, k, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    alignas(32) double sd[4];
    _mm256_store_pd(sd, _mm256_add_pd(s0, s1));
    const float inv = float(1.0 / ((sd[0] + sd[1]) + (sd[2] + sd[3])));
    const __m256 iv = _mm256_set1_ps(inv);
    for (i = 0; i < n; i += 8) {
        const __m256i k = lanes(n - i);
        _mm256_maskstore_ps(x + i, k, _mm256_mul_ps(_mm256_maskload_ps(x + i, k), iv));
    }
}

}  // namespace kernels
}  // namespace dsv32
