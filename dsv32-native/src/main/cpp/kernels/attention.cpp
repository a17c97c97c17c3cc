// attention.cpp: scalar references and dispatchers of the attention kernels (attention.h). The references are plain
// loops in the documented order (multiply then add: the baseline x86-64 target has no fused multiply-add); the
// AVX-512 path fuses them and the AVX2 path runs the loops through dot / axpy, so the paths agree to float rounding,
// not bitwise (test_kernels checks the tolerance on every path).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

void index_scores_scalar(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                         int hd, const float* const* keys, int nkeys) {
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        for (int t = 0; t < n; ++t) {
            const float* k = keys[t];
            float acc = 0;
            for (int h = 0; h < nh; ++h) {
                const float* qh = q[j] + size_t(h) * size_t(hd);
                float d = 0;
                for (int i = 0; i < hd; ++i) d += qh[i] * k[i];
                if (d > 0) acc += w[j][h] * d;
            }
            out[j][t] = acc;
        }
    }
}

void mla_scores_scalar(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
    for (int h = 0; h < nh; ++h) {
        const float* ql = q_lat + size_t(h) * size_t(kvr);
        const float* qp = q_pe + size_t(h) * size_t(dr);
        for (int j = 0; j < nkeys; ++j) {
            float s = 0;
            for (int i = 0; i < kvr; ++i) s += ql[i] * lat[j][i];
            for (int i = 0; i < dr; ++i) s += qp[i] * pe[j][i];
            p[size_t(h) * pstride + size_t(j)] = s * scale;
        }
    }
}

namespace {

// mla_values' loop over heads and its split (attention.h) for the scalar and dot paths: per head, o[c0, c1) = the sum
// over the keys [0, s), then, where s < nkeys, plus (one add) the sum over [s, nkeys) taken apart from zero.
// add_key(w, row, dst, n): dst[0, n) += w * row[0, n), in the path's own arithmetic.
template <class AddKey>
void values_in_halves(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0,
                      int c1, float* o_lat, int split, AddKey add_key) {
    const int s = split > 0 && split < nkeys ? split : nkeys;  // the first half's keys: [0, s)
    const int n = c1 - c0;
    thread_local std::vector<float> b;  // the second half's sum of one head
    b.resize(size_t(n));
    for (int h = 0; h < nh; ++h) {
        const float* ph = p + size_t(h) * pstride;
        float* o = o_lat + size_t(h) * size_t(kvr) + c0;
        std::fill(o, o + n, 0.0f);
        for (int j = 0; j < s; ++j) add_key(ph[j], lat[j] + c0, o, n);
        if (s == nkeys) continue;
        std::fill(b.begin(), b.end(), 0.0f);
        for (int j = s; j < nkeys; ++j) add_key(ph[j], lat[j] + c0, b.data(), n);
        for (int i = 0; i < n; ++i) o[i] += b[size_t(i)];
    }
}

}  // namespace

void mla_values_scalar(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0,
                       int c1, float* o_lat, int split) {
    values_in_halves(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split, [](float w, const float* row, float* dst, int n) {
        for (int i = 0; i < n; ++i) dst[i] += w * row[i];
    });
}

void mla_decode_scalar(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nsel, float scale, float* o_lat, float* scratch) {
    mla_scores_scalar(q_lat, q_pe, nh, kvr, dr, lat, pe, nsel, scale, scratch, size_t(nsel));
    for (int h = 0; h < nh; ++h) softmax(scratch + size_t(h) * size_t(nsel), nsel);
    mla_values_scalar(scratch, size_t(nsel), nh, kvr, lat, nsel, 0, kvr, o_lat);
}

void mha_row_scalar(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                    int nsel, float scale, float* o, float* scratch) {
    const size_t kvw = size_t(dn) + size_t(dv);
    for (int h = 0; h < nh; ++h) {
        const float* qh = q + size_t(h) * size_t(dn + dr);
        for (int j = 0; j < nsel; ++j) {
            const float* kn = kv[j] + size_t(h) * kvw;
            float s = 0, sp = 0;
            for (int i = 0; i < dn; ++i) s += qh[i] * kn[i];
            for (int i = 0; i < dr; ++i) sp += qh[dn + i] * pe[j][i];
            scratch[j] = (s + sp) * scale;
        }
        softmax(scratch, nsel);
        float* oh = o + size_t(h) * size_t(dv);
        std::fill(oh, oh + dv, 0.0f);
        for (int j = 0; j < nsel; ++j) {
            const float* v = kv[j] + size_t(h) * kvw + size_t(dn);
            for (int i = 0; i < dv; ++i) oh[i] += scratch[j] * v[i];
        }
    }
}

void linear_t_rows_scalar(const float* x, const WeightMat& w, int r0, int r1, float* y, int M) {
    const int K = w.in, R = r1 - r0;
    std::fill(y, y + size_t(M) * size_t(K), 0.0f);
    thread_local std::vector<float> row;  // one dequantised row; kept, so that a decode step allocates nothing
    row.resize(static_cast<size_t>(K));
    for (int r = r0; r < r1; ++r) {
        dequant_row(w, r, 0, K, row.data());
        for (int m = 0; m < M; ++m) {
            const float a = x[size_t(m) * size_t(R) + size_t(r - r0)];
            float* ym = y + size_t(m) * size_t(K);
            for (int c = 0; c < K; ++c) ym[c] += a * row[size_t(c)];
        }
    }
}

// The AVX2 path's composition of the values: the reference's loop with its updates through axpy (which takes the AVX2 +
// FMA kernel). attention_avx2.cpp's kernel gives its bits where the column range allows.
void mla_values_dot(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                    float* o_lat, int split) {
    values_in_halves(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split,
                     [](float w, const float* row, float* dst, int n) { axpy(w, row, dst, n); });
}

namespace {

void mha_row_dot(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe, int nsel,
                 float scale, float* o, float* scratch) {
    const size_t kvw = size_t(dn) + size_t(dv);
    for (int h = 0; h < nh; ++h) {
        const float* qh = q + size_t(h) * size_t(dn + dr);
        for (int j = 0; j < nsel; ++j)
            scratch[j] = (dot(qh, kv[j] + size_t(h) * kvw, dn) + dot(qh + dn, pe[j], dr)) * scale;
        softmax(scratch, nsel);
        float* oh = o + size_t(h) * size_t(dv);
        std::fill(oh, oh + dv, 0.0f);
        for (int j = 0; j < nsel; ++j) axpy(scratch[j], kv[j] + size_t(h) * kvw + size_t(dn), oh, dv);
    }
}

}  // namespace

void index_scores(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh, int hd,
                  const float* const* keys, int nkeys, XValues qk) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) {
        if (qk == XValues::Bf16 && bf16_dot_enabled() && index_scores_bf16dot(q, w, out, lim, nq, nh, hd, keys, nkeys)) return;
        return index_scores_avx512(q, w, out, lim, nq, nh, hd, keys, nkeys);
    }
    if (kernel_path() == KernelPath::Avx2) return index_scores_avx2(q, w, out, lim, nq, nh, hd, keys, nkeys);
#endif
    (void)qk;
    index_scores_scalar(q, w, out, lim, nq, nh, hd, keys, nkeys);
}

void mla_scores(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                const float* const* pe, int nkeys, float scale, float* p, size_t pstride) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mla_scores_avx512(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
    if (kernel_path() == KernelPath::Avx2) return mla_scores_avx2(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
#endif
    mla_scores_scalar(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

void mla_values(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                float* o_lat, int split) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mla_values_avx512(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
#endif
    if (kernel_path() == KernelPath::Avx2) {
#if defined(DSV32_X86_KERNELS)
        if (mla_values_avx2(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split)) return;
#endif
        return mla_values_dot(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
    }
    mla_values_scalar(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
}

namespace {

// Packed bf16 rows widened to f32 (exact) in a thread-local buffer, and pointers to them: the paths without a bf16
// kernel run their f32 kernel on these.
struct WideRows {
    std::vector<float> data;
    std::vector<const float*> rows;
    // Columns [c0, c0 + width) of each of the n rows (the whole row from c0 = 0).
    const float* const* widen(const uint16_t* const* src, int n, int width, int c0 = 0) {
        data.resize(size_t(n) * size_t(width));
        rows.resize(size_t(n));
        for (int j = 0; j < n; ++j) {
            float* d = data.data() + size_t(j) * size_t(width);
            unpack_bf16(src[j] + c0, width, d);
            rows[size_t(j)] = d;
        }
        return rows.data();
    }
};

}  // namespace

void mla_scores_bf16(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                     const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mla_scores_bf16_avx512(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
    if (kernel_path() == KernelPath::Avx2) return mla_scores_avx2(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);  // the rows as stored
#endif
    thread_local WideRows wl, wp;
    mla_scores(q_lat, q_pe, nh, kvr, dr, wl.widen(lat, nkeys, kvr), wp.widen(pe, nkeys, dr), nkeys, scale, p, pstride);
}

void mla_values_bf16(const float* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mla_values_bf16_avx512(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
#endif
    // Only the item's columns: the values step splits the latent's columns over items, and widening whole rows for
    // each made the AVX2 path's fp8 decode spend more time widening than computing. The f32 kernel then runs on
    // columns [0, c1 - c0) of those rows, writing o_lat's columns from c0 (the same arithmetic per column).
    thread_local WideRows wl;
    mla_values(p, pstride, nh, kvr, wl.widen(lat, nkeys, c1 - c0, c0), nkeys, 0, c1 - c0, o_lat + c0, split);
}

void mla_scores_bf16q(const uint16_t* q_lat, const uint16_t* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                      const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512 && bf16_dot_enabled())
        return mla_scores_bf16dot(q_lat, q_pe, nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
#endif
    thread_local std::vector<float> ql, qp;
    ql.resize(size_t(nh) * size_t(kvr));
    qp.resize(size_t(nh) * size_t(dr));
    unpack_bf16(q_lat, int(ql.size()), ql.data());
    unpack_bf16(q_pe, int(qp.size()), qp.data());
    mla_scores_bf16(ql.data(), qp.data(), nh, kvr, dr, lat, pe, nkeys, scale, p, pstride);
}

void mla_values_bf16p(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                      int c1, float* o_lat, int split) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512 && bf16_dot_enabled())
        return mla_values_bf16dot(p, pstride, nh, kvr, lat, nkeys, c0, c1, o_lat, split);
#endif
    thread_local std::vector<float> pw;
    pw.resize(size_t(nh) * size_t(nkeys));
    for (int h = 0; h < nh; ++h) unpack_bf16(p + size_t(h) * pstride, nkeys, pw.data() + size_t(h) * size_t(nkeys));
    mla_values_bf16(pw.data(), size_t(nkeys), nh, kvr, lat, nkeys, c0, c1, o_lat, split);
}

void index_scores_bf16_keys(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                            int hd, const uint16_t* const* keys, int nkeys) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512 && bf16_dot_enabled() && index_scores_bf16dot(q, w, out, lim, nq, nh, hd, keys, nkeys))
        return;
    if (kernel_path() == KernelPath::Avx2) return index_scores_avx2(q, w, out, lim, nq, nh, hd, keys, nkeys);  // the keys as stored
#endif
    thread_local WideRows wk;
    int n = 0;  // only the keys some query reads
    for (int j = 0; j < nq; ++j) n = std::max(n, std::min(lim[j], nkeys));
    index_scores(q, w, out, lim, nq, nh, hd, wk.widen(keys, n, hd), n, XValues::Bf16);
}

void mla_decode(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                const float* const* pe, int nsel, float scale, float* o_lat, float* scratch) {
    mla_scores(q_lat, q_pe, nh, kvr, dr, lat, pe, nsel, scale, scratch, size_t(nsel));
    for (int h = 0; h < nh; ++h) softmax(scratch + size_t(h) * size_t(nsel), nsel);
    mla_values(scratch, size_t(nsel), nh, kvr, lat, nsel, 0, kvr, o_lat);
}

void mha_row(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe, int nsel,
             float scale, float* o, float* scratch) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mha_row_avx512(q, nh, dn, dr, dv, kv, pe, nsel, scale, o, scratch);
#endif
    if (kernel_path() == KernelPath::Avx2) return mha_row_dot(q, nh, dn, dr, dv, kv, pe, nsel, scale, o, scratch);
    mha_row_scalar(q, nh, dn, dr, dv, kv, pe, nsel, scale, o, scratch);
}

void mha_rows_prefix(const float* const* q, int nq, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                     const int* n, float scale, float* const* o, float* scratch) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return mha_rows_prefix_avx512(q, nq, dn, dr, dv, kv, pe, n, scale, o, scratch);
#endif
    for (int g = 0; g < nq; ++g) mha_row(q[g], 1, dn, dr, dv, kv, pe, n[g], scale, o[g], scratch);
}

void linear_t_rows(const float* x, const WeightMat& w, int r0, int r1, float* y, int M) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return linear_t_rows_avx512(x, w, r0, r1, y, M);
    if (kernel_path() == KernelPath::Avx2 && linear_t_rows_avx2(x, w, r0, r1, y, M)) return;
#endif
    linear_t_rows_scalar(x, w, r0, r1, y, M);
}

void linear_rows(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, XValues xv) {
    (void)xv;  // the dot-product kernels are x86 only
    const KernelPath path = kernel_path();
    if (path == KernelPath::Scalar) return linear_rows_scalar(x, w, y, M, n0, n1);
#if defined(DSV32_X86_KERNELS)
    if (xv == XValues::Bf16 && path == KernelPath::Avx512 && bf16_dot_enabled() && bf16_dot_layout_ok(w)) {
        thread_local std::vector<uint16_t> xb;
        uint16_t* xp = aligned_scratch(xb, size_t(M) * size_t(w.in));
        if (pack_x_bf16(x, M, w.in, w.type, xp)) {
            // The band as a matrix of its own where its scales allow (FP8: from a 128-row block on): the kernels then
            // request rows ahead only up to its end, not the rows after it that this call does not read (in wkv_b, the
            // next head's W_UK under each W_UV band). Its rows' results go to their columns of y.
            if (w.type == WType::FP8 && n0 % 128 != 0) return linear_rows_bf16dot(xp, w, y, M, n0, n1);
            WeightMat band = w;
            band.out = n1 - n0;
            band.data = static_cast<const uint8_t*>(w.data) + size_t(n0) * w.stride() * wtype_bytes(w.type);
            if (w.type == WType::FP8) band.scale = w.scale + size_t(n0 / 128) * size_t(w.scale_cols);
            thread_local std::vector<float> yb;
            float* yp = aligned_scratch(yb, size_t(M) * size_t(band.out));
            linear_rows_bf16dot(xp, band, yp, M, 0, band.out);
            for (int m = 0; m < M; ++m) std::copy_n(yp + size_t(m) * size_t(band.out), band.out, y + size_t(m) * size_t(w.out) + size_t(n0));
            return;
        }
    }
    thread_local std::vector<float> scratch;
    float* sp = aligned_scratch(scratch, linear_scratch_floats(w.in));
    if (path == KernelPath::Avx512) return linear_rows_avx512(x, w, y, M, n0, n1, sp);
    return linear_rows_avx2(x, w, y, M, n0, n1, sp);
#else
    linear_rows_scalar(x, w, y, M, n0, n1);
#endif
}

}  // namespace kernels
}  // namespace dsv32
