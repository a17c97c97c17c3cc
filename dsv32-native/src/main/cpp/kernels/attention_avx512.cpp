// attention_avx512.cpp: AVX-512 paths of the attention kernels (attention.h). Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx2 -mfma -mf16c (CMakeLists.txt); called only when the CPU has them. References: the *_scalar
// functions of attention.cpp.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/attention.h"
#include "kernels/convert_avx512.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

inline __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

// 64-byte aligned thread-local scratch of at least n floats.
float* scratch_floats(size_t n) {
    thread_local std::vector<float> buf;
    if (buf.size() < n + 16) buf.resize(n + 16);
    float* p = buf.data();
    while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
    return p;
}

// Indexer scores of one query over keys [t, t + 2), heads vectorised: qT [hd][HV*16] (head h in lane h % 16 of vector
// h / 16, padded heads zero), wv [HV*16] (padded zero). NV head vectors per pass (at most 4): 2 * NV accumulators.
template <int NV>
inline void index_pass(const float* qT, const float* wv, int HVL, int hd, const float* k0, const float* k1, __m512* tot0,
                       __m512* tot1) {
    __m512 a0[NV], a1[NV];
    DSV32_UNROLL
    for (int v = 0; v < NV; ++v) a0[v] = a1[v] = _mm512_setzero_ps();
    for (int i = 0; i < hd; ++i) {
        const __m512 b0 = _mm512_set1_ps(k0[i]), b1 = _mm512_set1_ps(k1[i]);
        const float* qi = qT + size_t(i) * size_t(HVL);
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) {
            const __m512 qv = _mm512_load_ps(qi + 16 * v);
            a0[v] = _mm512_fmadd_ps(qv, b0, a0[v]);
            a1[v] = _mm512_fmadd_ps(qv, b1, a1[v]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    DSV32_UNROLL
    for (int v = 0; v < NV; ++v) {
        const __m512 w = _mm512_load_ps(wv + 16 * v);
        *tot0 = _mm512_fmadd_ps(_mm512_max_ps(a0[v], zero), w, *tot0);
        *tot1 = _mm512_fmadd_ps(_mm512_max_ps(a1[v], zero), w, *tot1);
    }
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
        // The query transposed: heads along the lanes (the padded heads stay zero: ReLU(0) * 0 adds nothing).
        std::fill(qT, qT + size_t(hd) * size_t(HVL) + size_t(HVL), 0.0f);
        for (int h = 0; h < nh; ++h) {
            const float* qh = q[j] + size_t(h) * size_t(hd);
            for (int i = 0; i < hd; ++i) qT[size_t(i) * size_t(HVL) + size_t(h)] = qh[i];
            wv[h] = w[j][h];
        }
        float* o = out[j];
        for (int t = 0; t < n; t += 2) {
            const float* k0 = keys[t];
            const float* k1 = t + 1 < n ? keys[t + 1] : k0;
            __m512 tot0 = _mm512_setzero_ps(), tot1 = _mm512_setzero_ps();
            for (int v0 = 0; v0 < HV; v0 += 4) {
                const float* qv = qT + 16 * v0;
                const float* wvv = wv + 16 * v0;
                switch (std::min(4, HV - v0)) {
                    case 4: index_pass<4>(qv, wvv, HVL, hd, k0, k1, &tot0, &tot1); break;
                    case 3: index_pass<3>(qv, wvv, HVL, hd, k0, k1, &tot0, &tot1); break;
                    case 2: index_pass<2>(qv, wvv, HVL, hd, k0, k1, &tot0, &tot1); break;
                    default: index_pass<1>(qv, wvv, HVL, hd, k0, k1, &tot0, &tot1); break;
                }
            }
            o[t] = _mm512_reduce_add_ps(tot0);
            if (t + 1 < n) o[t + 1] = _mm512_reduce_add_ps(tot1);
        }
    }
}

namespace {

// The lane sums of 16 vectors as one vector (lane u = sum of a[u]'s lanes): a transposing tree of 15 adds and 30
// shuffles instead of 16 horizontal reductions. Every a[u] is summed by the same tree, whatever u.
inline __m512 reduce16(const __m512* a) {
    __m512 b[8], c[4], d[2];
    for (int u = 0; u < 8; ++u)  // halves: [a[2u] lanes 0-7 + 8-15 | a[2u+1] likewise]
        b[u] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * u], a[2 * u + 1], 0x44), _mm512_shuffle_f32x4(a[2 * u], a[2 * u + 1], 0xEE));
    for (int u = 0; u < 4; ++u)  // quarters: 128-bit block k holds 4 partial sums of key 4u + k
        c[u] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * u], b[2 * u + 1], 0x88), _mm512_shuffle_f32x4(b[2 * u], b[2 * u + 1], 0xDD));
    for (int u = 0; u < 2; ++u)  // pairs within blocks: block k = [key 8u + k: 2 sums | key 8u + 4 + k: 2 sums]
        d[u] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * u], c[2 * u + 1], 0x44), _mm512_shuffle_ps(c[2 * u], c[2 * u + 1], 0xEE));
    // block k = [key k, key 4 + k, key 8 + k, key 12 + k]; then lane 4k + i -> lane 4i + k
    const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
    return _mm512_permutexvar_ps(_mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0), e);
}

// Prefetch of a selected key's latent and k_pe rows: the selection is scattered over the cache, which a decode step
// reads once, mostly from memory.
inline void prefetch_key(const float* lat, int kvr, const float* pe, int dr) {
    const char* l = reinterpret_cast<const char*>(lat);
    for (int c = 0; c < kvr * 4; c += 64) _mm_prefetch(l + c, _MM_HINT_T0);
    const char* e = reinterpret_cast<const char*>(pe);
    for (int c = 0; c < dr * 4; c += 64) _mm_prefetch(e + c, _MM_HINT_T0);
}

// Scores of G heads against NK keys (1 or 2) from j: dot over kvr latent dims then dr rope dims, 16 lanes each, one
// chain per (head, key); each q chunk loaded once for the NK keys. Every score is the same whatever NK.
template <int G, int NK>
inline void mla_scores_keys(const float* q_lat, const float* q_pe, int kvr, int dr, const float* const* l,
                            const float* const* e, float scale, float* p, size_t pstride) {
    __m512 a[NK][G];
    DSV32_UNROLL
    for (int u = 0; u < NK; ++u)
        DSV32_UNROLL
        for (int g = 0; g < G; ++g) a[u][g] = _mm512_setzero_ps();
    // a[u][g] += q[g] . rows[u] over width columns (q rows qstride apart): the latent part, then the rope part.
    auto dot_part = [&](const float* q, int qstride, const float* const* rows, int width) {
        for (int c = 0; c < width; c += 16) {
            const __mmask16 m = tail_mask(width - c);
            __m512 rv[NK];
            DSV32_UNROLL
            for (int u = 0; u < NK; ++u) rv[u] = _mm512_maskz_loadu_ps(m, rows[u] + c);
            DSV32_UNROLL
            for (int g = 0; g < G; ++g) {
                const __m512 qv = _mm512_maskz_loadu_ps(m, q + size_t(g) * qstride + c);
                DSV32_UNROLL
                for (int u = 0; u < NK; ++u) a[u][g] = _mm512_fmadd_ps(qv, rv[u], a[u][g]);
            }
        }
    };
    dot_part(q_lat, kvr, l, kvr);
    dot_part(q_pe, dr, e, dr);
    DSV32_UNROLL
    for (int u = 0; u < NK; ++u)
        DSV32_UNROLL
        for (int g = 0; g < G; ++g) p[size_t(g) * pstride + size_t(u)] = _mm512_reduce_add_ps(a[u][g]) * scale;
}

// Scores of G heads against the nkeys keys, two keys per pass, the rows of later keys prefetched.
template <int G>
inline void mla_scores_group(const float* q_lat, const float* q_pe, int kvr, int dr, const float* const* lat,
                             const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    constexpr int AHEAD = 4;  // keys ahead: about a microsecond of work, several memory latencies
    for (int j = 0; j < std::min(AHEAD, nkeys); ++j) prefetch_key(lat[j], kvr, pe[j], dr);
    int j = 0;
    for (; j + 2 <= nkeys; j += 2) {
        for (int t = j + AHEAD; t < std::min(j + AHEAD + 2, nkeys); ++t) prefetch_key(lat[t], kvr, pe[t], dr);
        mla_scores_keys<G, 2>(q_lat, q_pe, kvr, dr, lat + j, pe + j, scale, p + j, pstride);
    }
    if (j < nkeys) mla_scores_keys<G, 1>(q_lat, q_pe, kvr, dr, lat + j, pe + j, scale, p + j, pstride);
}

// o_lat[g][c0..c1) = sum_j p[g][j] lat[j][c0..c1) for G heads, NC 16-column chunks per pass over the keys (2 * 8
// accumulators at most), the keys in sequence.
template <int G, int NC>
inline void mla_values_group(const float* p, size_t pstride, int kvr, const float* const* lat, int nkeys, int c,
                             int c1, float* o_lat) {
    __m512 a[G][NC];
    __mmask16 m[NC];
    DSV32_UNROLL
    for (int u = 0; u < NC; ++u) m[u] = tail_mask(c1 - (c + 16 * u));
    DSV32_UNROLL
    for (int g = 0; g < G; ++g)
        DSV32_UNROLL
        for (int u = 0; u < NC; ++u) a[g][u] = _mm512_setzero_ps();
    for (int j = 0; j < nkeys; ++j) {
        __m512 lv[NC];
        DSV32_UNROLL
        for (int u = 0; u < NC; ++u) lv[u] = _mm512_maskz_loadu_ps(m[u], lat[j] + c + 16 * u);
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
        for (int u = 0; u < NC; ++u) _mm512_mask_storeu_ps(o_lat + size_t(g) * kvr + c + 16 * u, m[u], a[g][u]);
}

}  // namespace

void mla_scores_avx512(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    for (int h = 0; h < nh;) {
        const float* ql = q_lat + size_t(h) * size_t(kvr);
        const float* qp = q_pe + size_t(h) * size_t(dr);
        float* ph = p + size_t(h) * pstride;
        const int g = nh - h >= 8 ? 8 : nh - h >= 4 ? 4 : nh - h >= 2 ? 2 : 1;
        switch (g) {
            case 8: mla_scores_group<8>(ql, qp, kvr, dr, lat, pe, nkeys, scale, ph, pstride); break;
            case 4: mla_scores_group<4>(ql, qp, kvr, dr, lat, pe, nkeys, scale, ph, pstride); break;
            case 2: mla_scores_group<2>(ql, qp, kvr, dr, lat, pe, nkeys, scale, ph, pstride); break;
            default: mla_scores_group<1>(ql, qp, kvr, dr, lat, pe, nkeys, scale, ph, pstride); break;
        }
        h += g;
    }
}

void mla_values_avx512(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                       float* o_lat) {
    for (int h = 0; h < nh;) {
        const int g = nh - h >= 8 ? 8 : nh - h >= 4 ? 4 : nh - h >= 2 ? 2 : 1;
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr);
        for (int c = c0; c < c1; c += 32) {
            const bool two = c1 - c > 16;
            switch (g * 2 + (two ? 1 : 0)) {
                case 17: mla_values_group<8, 2>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 16: mla_values_group<8, 1>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 9: mla_values_group<4, 2>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 8: mla_values_group<4, 1>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 5: mla_values_group<2, 2>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 4: mla_values_group<2, 1>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                case 3: mla_values_group<1, 2>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
                default: mla_values_group<1, 1>(ph, pstride, kvr, lat, nkeys, c, c1, o); break;
            }
        }
        h += g;
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

void linear_t_rows_avx512(const float* x, const WeightMat& w, int r0, int r1, float* y, int M) {
    const int K = w.in, R = r1 - r0, K16 = K & ~15;
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
