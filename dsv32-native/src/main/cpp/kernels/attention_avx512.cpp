// attention_avx512.cpp: AVX-512 paths of the attention kernels (attention.h). Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx2 -mfma -mf16c (CMakeLists.txt); called only when the CPU has them. References: the *_scalar
// functions of attention.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/convert_avx512.h"
#include "kernels/mla_scores_avx512.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

// Indexer scores of one query over keys [t, t + 4), heads vectorised: qT [hd][HV*16] (head h in lane h % 16 of vector
// h / 16, padded heads zero), wv [HV*16] (padded zero). NV head vectors per pass (at most 4): 4 * NV accumulators; per
// column 4 key broadcasts and NV query loads feed 4 * NV fused multiply-adds. Each key's arithmetic is the same
// whatever its place in the block (a short block repeats a key; the results are not stored).
template <int NV>
inline void index_pass(const float* qT, const float* wv, int HVL, int hd, const float* const* k, __m512* tot) {
    __m512 a[4][NV];
    DSV32_UNROLL
    for (int u = 0; u < 4; ++u)
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) a[u][v] = _mm512_setzero_ps();
    const float *k0 = k[0], *k1 = k[1], *k2 = k[2], *k3 = k[3];
    for (int i = 0; i < hd; ++i) {
        const __m512 b0 = _mm512_set1_ps(k0[i]), b1 = _mm512_set1_ps(k1[i]), b2 = _mm512_set1_ps(k2[i]),
                     b3 = _mm512_set1_ps(k3[i]);
        const float* qi = qT + size_t(i) * size_t(HVL);
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) {
            const __m512 qv = _mm512_load_ps(qi + 16 * v);
            a[0][v] = _mm512_fmadd_ps(qv, b0, a[0][v]);
            a[1][v] = _mm512_fmadd_ps(qv, b1, a[1][v]);
            a[2][v] = _mm512_fmadd_ps(qv, b2, a[2][v]);
            a[3][v] = _mm512_fmadd_ps(qv, b3, a[3][v]);
        }
    }
    index_head_sum<NV>(a, wv, tot);
}

}  // namespace

void index_scores_avx512(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                         int hd, const float* const* keys, int nkeys) {
    const int HV = (nh + 15) / 16, HVL = HV * 16;
    float* qT = scratch_floats(size_t(hd) * size_t(HVL) + size_t(HVL));
    float* wv = qT + size_t(hd) * size_t(HVL);
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        if (n <= 0) continue;
        // The query transposed: heads along the lanes (the padded heads zero: ReLU(0) * 0 adds nothing), in 16 x 16
        // register blocks (a scalar transpose was ~15 % of a call).
        transpose_heads(q[j], nh, hd, qT, HVL);
        std::fill(wv, wv + HVL, 0.0f);
        std::copy_n(w[j], nh, wv);
        float* o = out[j];
        for (int t = 0; t < n; t += 4) {
            const int nk = std::min(4, n - t);
            const float* k[4];
            for (int u = 0; u < 4; ++u) k[u] = keys[t + std::min(u, nk - 1)];
            for (int u = t + 8; u < std::min(t + 12, n); ++u)  // the keys two blocks on (a block takes ~1k cycles)
                for (int c = 0; c < hd * 4; c += 64) _mm_prefetch(reinterpret_cast<const char*>(keys[u]) + c, _MM_HINT_T0);
            __m512 tot[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int v0 = 0; v0 < HV; v0 += 4) {
                const float* qv = qT + 16 * v0;
                const float* wvv = wv + 16 * v0;
                switch (std::min(4, HV - v0)) {
                    case 4: index_pass<4>(qv, wvv, HVL, hd, k, tot); break;
                    case 3: index_pass<3>(qv, wvv, HVL, hd, k, tot); break;
                    case 2: index_pass<2>(qv, wvv, HVL, hd, k, tot); break;
                    default: index_pass<1>(qv, wvv, HVL, hd, k, tot); break;
                }
            }
            for (int u = 0; u < nk; ++u) o[t + u] = _mm512_reduce_add_ps(tot[u]);
        }
    }
}

namespace {

// A cached row's 16 values from column c (masked) as f32: stored f32, or packed bf16 (the fp8 numerics' cache,
// exact: a bf16 widened to f32 is one shift).
inline __m512 load_row(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load_row(__mmask16 m, const uint16_t* p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

// Prefetch of a selected key's latent and k_pe rows: the selection is scattered over the cache, which a decode step
// reads once, mostly from memory.
template <typename T>
inline void prefetch_key(const T* lat, int kvr, const T* pe, int dr) {
    const char* l = reinterpret_cast<const char*>(lat);
    for (size_t c = 0; c < size_t(kvr) * sizeof(T); c += 64) _mm_prefetch(l + c, _MM_HINT_T0);
    const char* e = reinterpret_cast<const char*>(pe);
    for (size_t c = 0; c < size_t(dr) * sizeof(T); c += 64) _mm_prefetch(e + c, _MM_HINT_T0);
}

// The f32 kernels' scores block (mla_scores_avx512.h): f32 queries, rows of T (f32, or packed bf16 widened by
// load_row), 16 columns a step, fused multiply-adds; prefetches into L1.
template <typename T>
struct F32Scores {
    using Q = float;
    using K = T;
    static constexpr int kStep = 16;
    static constexpr auto kHint = _MM_HINT_T0;
    static __mmask16 mask(int n) { return tail_mask(n); }
    static __m512 load_q(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
    static __m512 load_k(__mmask16 m, const T* p) { return load_row(m, p); }
    static __m512 mac(__m512 a, __m512 q, __m512 k) { return _mm512_fmadd_ps(q, k, a); }
};

// o_lat[g][c0..c1) = sum_j p[g][j] lat[j][c0..c1) for G heads, NC 16-column chunks per pass over the keys (2 * 8
// accumulators at most), the keys in sequence; with 0 < split < nkeys the keys [0, split) so, stored, then [split,
// nkeys) from zero again, added to what was stored (attention.h).
template <int G, int NC, typename T>
inline void mla_values_group(const float* p, size_t pstride, int kvr, const T* const* lat, int nkeys, int c,
                             int c1, float* o_lat, int split) {
    __m512 a[G][NC];
    __mmask16 m[NC];
    DSV32_UNROLL
    for (int u = 0; u < NC; ++u) m[u] = tail_mask(c1 - (c + 16 * u));
    constexpr int AHEAD = 16;  // keys: the rows are scattered over the cache, NC lines of each read here
    const int s = split > 0 && split < nkeys ? split : nkeys;
    for (int half = 0; half < (s < nkeys ? 2 : 1); ++half) {  // the keys [0, s), then [s, nkeys)
        const int j0 = half ? s : 0, j1 = half ? nkeys : s;
        DSV32_UNROLL
        for (int g = 0; g < G; ++g)
            DSV32_UNROLL
            for (int u = 0; u < NC; ++u) a[g][u] = _mm512_setzero_ps();
        for (int j = j0; j < j1; ++j) {
            if (j + AHEAD < nkeys) {
                DSV32_UNROLL
                for (int u = 0; u < NC; u += int(64 / (16 * sizeof(T))))
                    _mm_prefetch(reinterpret_cast<const char*>(lat[j + AHEAD] + c + 16 * u), _MM_HINT_T0);
            }
            __m512 lv[NC];
            DSV32_UNROLL
            for (int u = 0; u < NC; ++u) lv[u] = load_row(m[u], lat[j] + c + 16 * u);
            DSV32_UNROLL
            for (int g = 0; g < G; ++g) {
                const __m512 pv = _mm512_set1_ps(p[size_t(g) * pstride + size_t(j)]);
                DSV32_UNROLL
                for (int u = 0; u < NC; ++u) a[g][u] = _mm512_fmadd_ps(pv, lv[u], a[g][u]);
            }
        }
        DSV32_UNROLL
        for (int g = 0; g < G; ++g)
            DSV32_UNROLL
            for (int u = 0; u < NC; ++u) {
                float* o = o_lat + size_t(g) * kvr + c + 16 * u;
                const __m512 v = half ? _mm512_add_ps(_mm512_maskz_loadu_ps(m[u], o), a[g][u]) : a[g][u];
                _mm512_mask_storeu_ps(o, m[u], v);
            }
    }
}

}  // namespace

namespace {

// ---- The decode scores (mla_scores_avx512, mla_scores_bf16_avx512) with the heads along the lanes ----
//
// A group of 16 heads (one vector; heads past nh are zero lanes) is transposed once per call into qT [n][16]; a pass
// takes 8 keys: per column one load of qT and each key's element broadcast feed 8 fused multiply-adds, so a score is
// one chain over the kvr latent columns then the dr rope columns, in order, times scale: the AVX2 path's arithmetic
// (attention_avx2.cpp), the same bits, and each lane its own chain whatever the keys' or heads' split. Before, blocks of
// 4 heads x 4 keys summed 16 columns a step in lanes and reduced them with reduce16: mini's f32 batch-4 decode at
// context 1024 spent 6.0 thread-ms a step there, at 43 % of the FMA peak (3.9 now). With more than 16 heads (the real
// model's 128) each group passes over the call's rows again, from L2 (the engine's calls take 128 keys: 295 KB of f32
// rows, 147 KB of bf16); not measured.
constexpr int LKQ = 8;  // keys per pass

// acc[b] (lane h: the group's head h) += qT's column i times element i of row r[b], i = 0 .. n-1 in order, one fused
// multiply-add each; one line of each next-pass row nx[b] requested per line of r passed.
inline void lanes_cols(const float* qT, const float* const* r, int n, const float* const* nx, __m512 (&acc)[LKQ]) {
    for (int i = 0; i < n; ++i) {
        if (i % 16 == 0)
            DSV32_UNROLL
            for (int b = 0; b < LKQ; ++b) _mm_prefetch(reinterpret_cast<const char*>(nx[b] + i), _MM_HINT_T0);
        const __m512 q = _mm512_load_ps(qT + 16 * size_t(i));
        DSV32_UNROLL
        for (int b = 0; b < LKQ; ++b) acc[b] = _mm512_fmadd_ps(q, _mm512_set1_ps(r[b][i]), acc[b]);
    }
}
// The same over rows of packed bf16 (their exact f32 values): a pair of columns a broadcast, the low element shifted
// into place and the high one masked, the two columns in order.
inline void lanes_cols(const float* qT, const uint16_t* const* r, int n, const uint16_t* const* nx, __m512 (&acc)[LKQ]) {
    const __m512i high = _mm512_set1_epi32(int(0xFFFF0000u));
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        if (i % 32 == 0)
            DSV32_UNROLL
            for (int b = 0; b < LKQ; ++b) _mm_prefetch(reinterpret_cast<const char*>(nx[b] + i), _MM_HINT_T0);
        const __m512 q0 = _mm512_load_ps(qT + 16 * size_t(i)), q1 = _mm512_load_ps(qT + 16 * size_t(i) + 16);
        DSV32_UNROLL
        for (int b = 0; b < LKQ; ++b) {
            uint32_t pair;
            std::memcpy(&pair, r[b] + i, 4);
            const __m512i t = _mm512_set1_epi32(int(pair));
            acc[b] = _mm512_fmadd_ps(q0, _mm512_castsi512_ps(_mm512_slli_epi32(t, 16)), acc[b]);
            acc[b] = _mm512_fmadd_ps(q1, _mm512_castsi512_ps(_mm512_and_si512(t, high)), acc[b]);
        }
    }
    if (i < n) {
        const __m512 q = _mm512_load_ps(qT + 16 * size_t(i));
        DSV32_UNROLL
        for (int b = 0; b < LKQ; ++b)
            acc[b] = _mm512_fmadd_ps(q, _mm512_castsi512_ps(_mm512_set1_epi32(int(uint32_t(r[b][i]) << 16))), acc[b]);
    }
}

template <typename T>
void mla_scores_lanes(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const T* const* lat, const T* const* pe,
                      int nkeys, float scale, float* p, size_t pstride) {
    if (nkeys <= 0) return;
    thread_local std::vector<float> qbuf;
    float* const qT = aligned_scratch(qbuf, 16 * size_t(kvr + dr));
    for (int j = 0; j < std::min(LKQ, nkeys); ++j) prefetch_key(lat[j], kvr, pe[j], dr);  // the first pass's rows
    const __m512 sv = _mm512_set1_ps(scale);
    for (int h0 = 0; h0 < nh; h0 += 16) {
        const int ng = std::min(16, nh - h0);
        transpose_group16(q_lat + size_t(h0) * size_t(kvr), size_t(kvr), ng, kvr, qT, 16);  // convert_avx512.h
        transpose_group16(q_pe + size_t(h0) * size_t(dr), size_t(dr), ng, dr, qT + 16 * size_t(kvr), 16);
        for (int j0 = 0; j0 < nkeys; j0 += LKQ) {
            // This pass's rows (a short pass repeats its last key; those lanes are not stored) and the next pass's (the
            // next group's first keys after the last pass; past the end, the row itself again).
            const T *l[LKQ], *e[LKQ], *nl[LKQ], *ne[LKQ];
            for (int b = 0; b < LKQ; ++b) {
                const int k = std::min(j0 + b, nkeys - 1);
                int nk = j0 + LKQ + b;
                if (nk >= nkeys) nk = h0 + 16 < nh ? std::min(b, nkeys - 1) : k;
                l[b] = lat[k], e[b] = pe[k], nl[b] = lat[nk], ne[b] = pe[nk];
            }
            __m512 acc[LKQ];
            DSV32_UNROLL
            for (int b = 0; b < LKQ; ++b) acc[b] = _mm512_setzero_ps();
            lanes_cols(qT, l, kvr, nl, acc);  // the latent's columns, then the rope's: one chain
            lanes_cols(qT + 16 * size_t(kvr), e, dr, ne, acc);
            __m512 t[16];
            for (int b = 0; b < 16; ++b) t[b] = b < LKQ ? _mm512_mul_ps(acc[b], sv) : _mm512_setzero_ps();
            transpose16(t);  // t[h] lane b: head h0 + h, key j0 + b
            const __mmask16 km = tail_mask(std::min(LKQ, nkeys - j0));
            for (int h = 0; h < ng; ++h) _mm512_mask_storeu_ps(p + size_t(h0 + h) * pstride + size_t(j0), km, t[h]);
        }
    }
}

template <typename T>
void mla_values_rows(const float* p, size_t pstride, int nh, int kvr, const T* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split) {
    for (int h = 0; h < nh;) {
        const int g = nh - h >= 8 ? 8 : nh - h >= 4 ? 4 : nh - h >= 2 ? 2 : 1;
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        for (int c = c0; c < c1; c += 32) {
            const bool two = c1 - c > 16;
            switch (g * 2 + (two ? 1 : 0)) {
                case 17: mla_values_group<8, 2, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 16: mla_values_group<8, 1, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 9: mla_values_group<4, 2, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 8: mla_values_group<4, 1, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 5: mla_values_group<2, 2, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 4: mla_values_group<2, 1, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                case 3: mla_values_group<1, 2, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
                default: mla_values_group<1, 1, T>(ph, pstride, kvr, lat, nkeys, c, c1, o, split); break;
            }
        }
        h += g;
    }
}

}  // namespace

void mla_scores_avx512(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    mla_scores_lanes(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

void mla_scores_bf16_avx512(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                            const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    mla_scores_lanes(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

void mla_values_avx512(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                       float* o_lat, int split) {
    mla_values_rows(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
}

void mla_values_bf16_avx512(const float* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                            int c1, float* o_lat, int split) {
    mla_values_rows(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
}

namespace {

// e^x for x <= 0 (softmax's x - max), 16 lanes: x = n ln2 + r, |r| <= ln2 / 2, e^r by a degree-6 polynomial (the
// Cephes expf coefficients, within 2 ulp of std::exp), times 2^n built in the exponent field. x below -87.3 gives 0
// (std::exp gives a subnormal there, under 1.2e-38), -inf gives 0, NaN stays NaN.
inline __m512 exp_nonpositive(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.33654f);
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_max_ps(lo, x);  // NaN stays in x (max returns its second operand when either is NaN)
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    const __m512 r2 = _mm512_mul_ps(r, r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    // 2^n for n in [-126, 0]: (n + 127) << 23 (NaN lanes: any scale, y is NaN).
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(__mmask16(~under), y, _mm512_castsi512_ps(e));
}

}  // namespace

void softmax_avx512(float* x, int n) {
    const float ninf = -std::numeric_limits<float>::infinity();
    __m512 mv = _mm512_set1_ps(ninf);
    int i = 0;
    for (; i + 16 <= n; i += 16) mv = _mm512_max_ps(_mm512_loadu_ps(x + i), mv);  // NaN entries ignored, as the scalar
    float mx = _mm512_reduce_max_ps(mv);
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    if (mx == ninf) {  // all masked: define as zeros
        std::fill(x, x + n, 0.0f);
        return;
    }
    const __m512 m = _mm512_set1_ps(mx);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), m));
        _mm512_mask_storeu_ps(x + i, k, e);
        const __m512 ek = _mm512_maskz_mov_ps(k, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(ek)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(ek), 1))));
    }
    const float inv = float(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)));
    const __m512 iv = _mm512_set1_ps(inv);
    for (i = 0; i < n; i += 16) {
        const __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), iv));
    }
}

void hadamard128_avx512(float* x) {
    // The scalar butterflies (kernels.cpp) on 8 vectors: stages h = 16, 32, 64 pair whole vectors; h = 1, 2, 4, 8 pair
    // lanes of one vector (p = the partner lanes; lower lane a + b, upper lane a - b, the same operations).
    __m512 v[8];
    DSV32_UNROLL
    for (int i = 0; i < 8; ++i) v[i] = _mm512_loadu_ps(x + 16 * i);
    auto lane_stage = [&](__mmask16 upper, auto partner) {
        DSV32_UNROLL
        for (int i = 0; i < 8; ++i) {
            const __m512 p = partner(v[i]);
            v[i] = _mm512_mask_blend_ps(upper, _mm512_add_ps(v[i], p), _mm512_sub_ps(p, v[i]));
        }
    };
    lane_stage(0xAAAA, [](__m512 a) { return _mm512_permute_ps(a, 0xB1); });           // h = 1
    lane_stage(0xCCCC, [](__m512 a) { return _mm512_permute_ps(a, 0x4E); });           // h = 2
    lane_stage(0xF0F0, [](__m512 a) { return _mm512_shuffle_f32x4(a, a, 0xB1); });     // h = 4
    lane_stage(0xFF00, [](__m512 a) { return _mm512_shuffle_f32x4(a, a, 0x4E); });     // h = 8
    for (int h = 1; h < 8; h <<= 1)  // h = 16, 32, 64: vectors i and i + h / 16
        for (int i = 0; i < 8; i += 2 * h)
            for (int j = i; j < i + h; ++j) {
                const __m512 a = v[j], b = v[j + h];
                v[j] = _mm512_add_ps(a, b);
                v[j + h] = _mm512_sub_ps(a, b);
            }
    const __m512 s = _mm512_set1_ps(1.0f / 11.313708498984761f);  // 1 / sqrt(128), as the scalar 1.0f / std::sqrt(128.0f)
    DSV32_UNROLL
    for (int i = 0; i < 8; ++i) _mm512_storeu_ps(x + 16 * i, _mm512_mul_ps(v[i], s));
}

void mha_row_avx512(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                    int nsel, float scale, float* o, float* scratch) {
    const size_t kvw = size_t(dn) + size_t(dv);
    constexpr int KJ = 16;  // keys per pass: 16 independent chains, each q chunk loaded once for all of them
    for (int h = 0; h < nh; ++h) {
        const float* qh = q + size_t(h) * size_t(dn + dr);
        const size_t off = size_t(h) * kvw;
        for (int j0 = 0; j0 < nsel; j0 += KJ) {
            const int nj = std::min(KJ, nsel - j0);
            const float* kn[KJ];
            const float* kp[KJ];
            for (int u = 0; u < KJ; ++u) {  // a short last pass repeats its last key (results unused)
                const int j = j0 + std::min(u, nj - 1);
                kn[u] = kv[j] + off;
                kp[u] = pe[j];
            }
            __m512 a[KJ];
            DSV32_UNROLL
            for (int u = 0; u < KJ; ++u) a[u] = _mm512_setzero_ps();
            for (int c = 0; c < dn; c += 16) {
                const __mmask16 m = tail_mask(dn - c);
                const __m512 qv = _mm512_maskz_loadu_ps(m, qh + c);
                _Pragma("GCC unroll 16")
                for (int u = 0; u < KJ; ++u) a[u] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, kn[u] + c), a[u]);
            }
            for (int c = 0; c < dr; c += 16) {
                const __mmask16 m = tail_mask(dr - c);
                const __m512 qv = _mm512_maskz_loadu_ps(m, qh + dn + c);
                _Pragma("GCC unroll 16")
                for (int u = 0; u < KJ; ++u) a[u] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, kp[u] + c), a[u]);
            }
            // The 16 lane sums at once (reduce16), scaled, stored as the pass's scores.
            _mm512_mask_storeu_ps(scratch + j0, tail_mask(nj), _mm512_mul_ps(reduce16(a), _mm512_set1_ps(scale)));
        }
        softmax(scratch, nsel);
        float* oh = o + size_t(h) * size_t(dv);
        int c = 0;
        for (; c + 128 <= dv; c += 128) {  // 8 accumulators of 16 value dims (8 independent chains), all keys
            __m512 acc[8];
            DSV32_UNROLL
            for (int u = 0; u < 8; ++u) acc[u] = _mm512_setzero_ps();
            for (int j = 0; j < nsel; ++j) {
                const float* v = kv[j] + off + size_t(dn) + size_t(c);
                const __m512 p = _mm512_set1_ps(scratch[j]);
                DSV32_UNROLL
                for (int u = 0; u < 8; ++u) acc[u] = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 16 * u), acc[u]);
            }
            DSV32_UNROLL
            for (int u = 0; u < 8; ++u) _mm512_storeu_ps(oh + c + 16 * u, acc[u]);
        }
        for (; c < dv; c += 16) {  // the rest (dv not a multiple of 128), 16 at a time: the same chain per element
            const __mmask16 m = tail_mask(dv - c);
            __m512 acc = _mm512_setzero_ps();
            for (int j = 0; j < nsel; ++j)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(scratch[j]), _mm512_maskz_loadu_ps(m, kv[j] + off + size_t(dn) + size_t(c)), acc);
            _mm512_mask_storeu_ps(oh + c, m, acc);
        }
    }
}

// Up to 4 query rows of one head over key prefixes (attention.h): the scores of 4 queries x 4 keys per pass in the
// decode kernels' register block (per 16 columns 8 loads feed 16 fused multiply-adds, against 17 loads in mha_row's
// pass of 16 keys for one query), then each query's softmax, then the values of all the queries together, 64 value
// columns at a time (per key 4 row loads and nq broadcasts feed 4 nq fused multiply-adds), each query's chain
// stopping at its own last key. Every score and output element is summed as mha_row_avx512 sums it: one chain over
// the dn then the dr columns, the same reduce16 tree, the same scaling; per output element one chain over the keys.
void mha_rows_prefix_avx512(const float* const* q, int nq, int dn, int dr, int dv, const float* const* kv,
                            const float* const* pe, const int* n, float scale, float* const* o, float* scratch) {
    int nmax = 0;
    for (int g = 0; g < nq; ++g) nmax = std::max(nmax, n[g]);
    const float* ql[4];
    const float* qp[4];
    for (int g = 0; g < 4; ++g) {  // a short group repeats its last query (results unused)
        ql[g] = q[std::min(g, nq - 1)];
        qp[g] = ql[g] + dn;
    }
    const __m512 sv = _mm512_set1_ps(scale);
    for (int j0 = 0; j0 < nmax; j0 += 4) {
        const int nj = std::min(4, nmax - j0);
        const float* l[4];
        const float* e[4];
        block_keys(kv, pe, j0, nj, l, e);
        __m512 r;
        mla_scores_4x4<F32Scores<float>>(ql, qp, dn, dr, l, e, &r);
        store_block(_mm512_mul_ps(r, sv), nq, nj, scratch + size_t(j0), size_t(nmax));  // queries g
    }
    for (int g = 0; g < nq; ++g) softmax(scratch + size_t(g) * size_t(nmax), n[g]);
    int nmin = nmax;
    for (int g = 0; g < nq; ++g) nmin = std::min(nmin, n[g]);
    for (int c = 0; c < dv; c += 64) {
        __mmask16 m[4];
        for (int u = 0; u < 4; ++u) m[u] = c + 16 * u < dv ? tail_mask(dv - (c + 16 * u)) : __mmask16(0);
        __m512 acc[4][4];
        DSV32_UNROLL
        for (int g = 0; g < 4; ++g)
            DSV32_UNROLL
            for (int u = 0; u < 4; ++u) acc[g][u] = _mm512_setzero_ps();
        for (int j = 0; j < nmax; ++j) {
            const float* v = kv[j] + size_t(dn) + size_t(c);
            __m512 vv[4];
            DSV32_UNROLL
            for (int u = 0; u < 4; ++u) vv[u] = _mm512_maskz_loadu_ps(m[u], v + 16 * u);
            DSV32_UNROLL
            for (int g = 0; g < 4; ++g) {
                if (g >= nq || (j >= nmin && j >= n[g])) continue;  // query g's chain ends at its last key
                const __m512 p = _mm512_set1_ps(scratch[size_t(g) * size_t(nmax) + size_t(j)]);
                DSV32_UNROLL
                for (int u = 0; u < 4; ++u) acc[g][u] = _mm512_fmadd_ps(p, vv[u], acc[g][u]);
            }
        }
        for (int g = 0; g < nq; ++g)
            for (int u = 0; u < 4; ++u) _mm512_mask_storeu_ps(o[g] + c + 16 * u, m[u], acc[g][u]);
    }
}

namespace {

// FP8, K % 32 == 0: y[m0 .. m0 + MG)[c0 .. c0 + 16 * NV) in registers over the band's rows, each 32-code chunk
// converted and scaled once as dequant_row does (f16-domain value times scale * 256) and applied to the MG rows of x
// by one fused multiply-add per element in row order -- the arithmetic of the general loop below, without its stores
// of the row and of y per row.
template <int NV, int MG>
void linear_t_fp8_block(const float* x, const WeightMat& w, int r0, int r1, float* y, int m0, int c0) {
    const int R = r1 - r0;
    __m512 acc[MG][NV];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) acc[m][v] = _mm512_setzero_ps();
    for (int r = r0; r < r1; ++r) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(r) * row_stride(w) + size_t(c0);
        const float* srow = w.scale + size_t(r / 128) * size_t(w.scale_cols);
        // The first column block's pass prefetches whole rows 16 on, so the later blocks find them in L2. (Before: each
        // block prefetched its own 64 bytes 8 rows on, a miss every 512 bytes: W_UK for 4 decode entries took 1.3 ms
        // of a 24 ms step, 0.7 after.)
        if (c0 == 0 && r + 16 < r1) {
            const uint8_t* ahead = static_cast<const uint8_t*>(w.data) + size_t(r + 16) * row_stride(w);
            for (int k = 0; k < w.in; k += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + k), _MM_HINT_T0);
        }
        __m512 a[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) a[m] = _mm512_set1_ps(x[size_t(m0 + m) * size_t(R) + size_t(r - r0)]);
        DSV32_UNROLL
        for (int v = 0; v < NV; v += 2) {
            __m512 lo, hi;
            fp8x32(p + 16 * v, &lo, &hi);
            const __m512 sc = _mm512_set1_ps(srow[(c0 + 16 * v) / 128] * 256.0f);
            const __m512 wl = _mm512_mul_ps(lo, sc), wh = _mm512_mul_ps(hi, sc);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                acc[m][v] = _mm512_fmadd_ps(a[m], wl, acc[m][v]);
                acc[m][v + 1] = _mm512_fmadd_ps(a[m], wh, acc[m][v + 1]);
            }
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        float* ym = y + size_t(m0 + m) * size_t(w.in) + size_t(c0);
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) _mm512_storeu_ps(ym + 16 * v, acc[m][v]);
    }
}

// Columns [0, K) of rows [m0, m0 + MG) of y: blocks of 16 * NV columns, then 32-column blocks.
template <int NV, int MG>
void linear_t_fp8_rows(const float* x, const WeightMat& w, int r0, int r1, float* y, int m0) {
    const int K = w.in;
    int c0 = 0;
    for (; c0 + 16 * NV <= K; c0 += 16 * NV) linear_t_fp8_block<NV, MG>(x, w, r0, r1, y, m0, c0);
    for (; c0 < K; c0 += 32) linear_t_fp8_block<2, MG>(x, w, r0, r1, y, m0, c0);
}

}  // namespace

void linear_t_rows_avx512(const float* x, const WeightMat& w, int r0, int r1, float* y, int M) {
    const int K = w.in, R = r1 - r0, K16 = K & ~15;
    if (w.type == WType::FP8 && K % 32 == 0) {  // y in 16 registers: 256 columns of one row, or 64 of four
        int m = 0;
        for (; m + 4 <= M; m += 4) linear_t_fp8_rows<4, 4>(x, w, r0, r1, y, m);
        for (; m + 2 <= M; m += 2) linear_t_fp8_rows<8, 2>(x, w, r0, r1, y, m);
        for (; m < M; ++m) linear_t_fp8_rows<16, 1>(x, w, r0, r1, y, m);
        return;
    }
    std::fill(y, y + size_t(M) * size_t(K), 0.0f);
    float* row = scratch_floats(size_t(K));
    for (int r = r0; r < r1; ++r) {
        // Row r dequantised exactly (dequant_row's values).
        int k = 0;
        if (w.type == WType::FP8) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(r) * row_stride(w);
            const float* srow = w.scale + size_t(r / 128) * size_t(w.scale_cols);
            for (; k + 32 <= K && (k % 128) + 32 <= 128; k += 32) {
                __m512 lo, hi;
                fp8x32(p + k, &lo, &hi);
                const __m512 s = _mm512_set1_ps(srow[k / 128] * 256.0f);
                _mm512_store_ps(row + k, _mm512_mul_ps(lo, s));
                _mm512_store_ps(row + k + 16, _mm512_mul_ps(hi, s));
            }
        } else if (w.type == WType::BF16) {
            const uint8_t* p = static_cast<const uint8_t*>(w.data) + 2 * size_t(r) * row_stride(w);
            for (; k + 16 <= K; k += 16) _mm512_store_ps(row + k, bf16x16(p + 2 * size_t(k)));
        }
        if (k < K) dequant_row(w, r, k, K - k, row + k);
        for (int m = 0; m < M; ++m) {
            const __m512 a = _mm512_set1_ps(x[size_t(m) * size_t(R) + size_t(r - r0)]);
            float* ym = y + size_t(m) * size_t(K);
            int c = 0;
            for (; c < K16; c += 16) _mm512_storeu_ps(ym + c, _mm512_fmadd_ps(a, _mm512_load_ps(row + c), _mm512_loadu_ps(ym + c)));
            for (; c < K; ++c) ym[c] += x[size_t(m) * size_t(R) + size_t(r - r0)] * row[c];
        }
    }
}

}  // namespace kernels
}  // namespace dsv32
