// attention_avx2.cpp: the AVX2 path's attention kernels (attention.h) for the engine's shapes, blocked over heads and
// keys. Compiled with -mavx2 -mfma -ffp-contract=off (CMakeLists.txt); called only when the CPU has them.
//
// Each result is bitwise what the AVX2 path's reference composition gives (attention.cpp: the scalar loops with
// their inner products through dot_avx2 and their updates through axpy_avx2; test_kernels compares the two): every
// q . k is dot_avx2's two chains over 16-column steps and its reduction, and the scalar arithmetic around it (the
// ReLU-weighted sum over heads, (q_lat . lat + q_pe . pe) * scale) is one rounding per operation, as in the baseline
// file (hence no contraction here). What the blocking changes is how often things are loaded: a pair of keys and a
// pair of heads share each 16-column step's loads (one load per fused multiply-add instead of two), the calls and
// the path's dispatch per inner product go, and the values step keeps 64 columns of a head's output in registers
// over the keys instead of loading and storing them for every key.
//
// Shapes off the engine's (a width not a multiple of 16, a values column range not a multiple of 8) return false:
// the caller then takes the reference composition.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "kernels/attention.h"
#include "kernels/reduce_avx2.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

// d[a][b] = dot_avx2(q[a], k[b], n) for A rows of q and B keys, n % 16 == 0.
template <int A, int B>
inline void dots(const float* const* q, const float* const* k, int n, float (*d)[B]) {
    __m256 s0[A][B], s1[A][B];
    DSV32_UNROLL
    for (int a = 0; a < A; ++a)
        DSV32_UNROLL
        for (int b = 0; b < B; ++b) s0[a][b] = s1[a][b] = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __m256 k0[B], k1[B];
        DSV32_UNROLL
        for (int b = 0; b < B; ++b) {
            k0[b] = _mm256_loadu_ps(k[b] + i);
            k1[b] = _mm256_loadu_ps(k[b] + i + 8);
        }
        DSV32_UNROLL
        for (int a = 0; a < A; ++a) {
            const __m256 q0 = _mm256_loadu_ps(q[a] + i), q1 = _mm256_loadu_ps(q[a] + i + 8);
            DSV32_UNROLL
            for (int b = 0; b < B; ++b) {
                s0[a][b] = _mm256_fmadd_ps(q0, k0[b], s0[a][b]);
                s1[a][b] = _mm256_fmadd_ps(q1, k1[b], s1[a][b]);
            }
        }
    }
    DSV32_UNROLL
    for (int a = 0; a < A; ++a)
        DSV32_UNROLL
        for (int b = 0; b < B; ++b) d[a][b] = hsum(_mm256_add_ps(s0[a][b], s1[a][b]));  // dot_avx2's reduction
}

// The indexer's scores of query qj (heads of hd floats) for the B keys k: acc[b] = sum over heads in order of
// w[h] * ReLU(q_h . k_b).
template <int B>
inline void index_keys(const float* qj, const float* w, int nh, int hd, const float* const* k, float* acc) {
    DSV32_UNROLL
    for (int b = 0; b < B; ++b) acc[b] = 0;
    int h = 0;
    for (; h + 2 <= nh; h += 2) {
        const float* q[2] = {qj + size_t(h) * size_t(hd), qj + size_t(h + 1) * size_t(hd)};
        float d[2][B];
        dots<2, B>(q, k, hd, d);
        for (int a = 0; a < 2; ++a)
            DSV32_UNROLL
            for (int b = 0; b < B; ++b)
                if (d[a][b] > 0) acc[b] += w[h + a] * d[a][b];
    }
    if (h < nh) {
        const float* q[1] = {qj + size_t(h) * size_t(hd)};
        float d[1][B];
        dots<1, B>(q, k, hd, d);
        DSV32_UNROLL
        for (int b = 0; b < B; ++b)
            if (d[0][b] > 0) acc[b] += w[h] * d[0][b];
    }
}

// MLA scores of the B keys [j, j + B) for all heads.
template <int B>
inline void mla_keys(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                     const float* const* pe, int j, float scale, float* p, size_t pstride) {
    int h = 0;
    for (; h < nh; h += 2) {
        const int A = nh - h >= 2 ? 2 : 1;
        const float* ql[2] = {q_lat + size_t(h) * size_t(kvr), q_lat + size_t(h + A - 1) * size_t(kvr)};
        const float* qp[2] = {q_pe + size_t(h) * size_t(dr), q_pe + size_t(h + A - 1) * size_t(dr)};
        float dl[2][B], dp[2][B];
        if (A == 2) {
            dots<2, B>(ql, lat + j, kvr, dl);
            dots<2, B>(qp, pe + j, dr, dp);
        } else {
            dots<1, B>(ql, lat + j, kvr, dl);
            dots<1, B>(qp, pe + j, dr, dp);
        }
        for (int a = 0; a < A; ++a)
            DSV32_UNROLL
            for (int b = 0; b < B; ++b) p[size_t(h + a) * pstride + size_t(j + b)] = (dl[a][b] + dp[a][b]) * scale;
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

}  // namespace

bool index_scores_avx2(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                       int hd, const float* const* keys, int nkeys) {
    if (hd % 16 != 0) return false;
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        int t = 0;
        for (; t + 2 <= n; t += 2) index_keys<2>(q[j], w[j], nh, hd, keys + t, out[j] + t);
        if (t < n) index_keys<1>(q[j], w[j], nh, hd, keys + t, out[j] + t);
    }
    return true;
}

bool mla_scores_avx2(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                     const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    if (kvr % 16 != 0 || dr % 16 != 0) return false;
    int j = 0;
    for (; j + 2 <= nkeys; j += 2) mla_keys<2>(q_lat, q_pe, nh, kvr, dr, lat, pe, j, scale, p, pstride);
    if (j < nkeys) mla_keys<1>(q_lat, q_pe, nh, kvr, dr, lat, pe, j, scale, p, pstride);
    return true;
}

bool mla_values_avx2(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split) {
    if ((c1 - c0) % 8 != 0) return false;
    const int s = split > 0 && split < nkeys ? split : nkeys;  // the first half's keys: [0, s)
    for (int h = 0; h < nh; ++h) {
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        int c = c0;
        for (; c + 64 <= c1; c += 64) values_cols<8>(ph, lat, c, s, nkeys, o + c);
        for (; c < c1; c += 8) values_cols<1>(ph, lat, c, s, nkeys, o + c);
    }
    return true;
}

}  // namespace kernels
}  // namespace dsv32
