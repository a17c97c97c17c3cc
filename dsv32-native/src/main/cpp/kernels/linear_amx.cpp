// linear_amx.cpp: the AMX-BF16 kernels, on CPUs with AMX (Xeon 4th generation on) once Linux has granted this process
// the tile data (amx_supported(), linear.cpp). Where the AVX512-BF16 kernels take products of bf16 values, these take
// them instead when amx_enabled(), in this file's order: kernels::linear for FP8 weights (every projection of the fp8
// numerics; from linear_rows_bf16dot), the bf16 head from its row panels (linear_panels), and the fp8 numerics'
// attention: the indexer's scores, the absorbed MLA decode's scores and values (attention.h). Compiled with the
// AVX512-BF16 file's flags plus -mamx-tile -mamx-bf16 (CMakeLists.txt).
//
// Why: on a 2-vCPU Xeon 5th generation a VDPBF16PS retires at half the rate of a 512-bit FMA (3.6 against 7.3 G a
// second on one core), so at batch 4 the decode GEMVs (16 VDPBF16PS per 128 weights of a row besides their conversion),
// the bf16 head and the attention's dot products are bound by their arithmetic, and a prefill's GEMMs by little else;
// one TDPBF16PS does 16 x 16 x 32 products. mini, fp8, 2 threads,
// context 1024, steps of batch 1 and 4 alternating with the AMX kernels off and on in one process (40 rounds): batch 1
// 18.65 -> 17.30 ms, batch 4 32.94 -> 21.99 ms (with the projections and the head alone: 20.0 -> 20.5 and 35.2 ->
// 28.6); `bin/dsv32 bench` prefill of 512 tokens 458 -> 706 tok/s with the projections alone. At batch 1 the projections
// gain nothing: the converted weights' stores and the tile loads cost about what the dot products did, and this core
// does not overlap its vector work with the tiles' (measured: their times add).
//
// Operands. W is the A operand: a tile is 16 rows of W by 32 columns (64 bytes of bf16 a row), so W's rows are
// converted as stored (fp8_bf16_lut.h, each 64-code chunk in its "FP8 order") into a thread's buffer of 16 rows x K:
// W needs no transposition. x is the B operand: a tile is 16 column pairs (its rows) by up to 16 rows of x (its
// columns, one bf16 pair = 4 bytes each) in the same FP8 order; pack_b builds a call's tiles from pack_x_bf16's layout
// (a 16 x 16 transposition of bf16 pairs per 32 columns; at M = 1 that layout already is the tile, with a 4-byte stride).
// C is 16 rows of W by a block's rows of x, in f32.
//
// The arithmetic of one output y[m][n], the same for every M, tiling and thread count:
//   tot = 0; per 128-column block b: blk = TDPBF16PS from 0 over the block's four 32-column tiles in order;
//   tot = fma(blk, scale[n / 128][b], tot) (the block scale as fp8_gemm_ref applies it; y = tot).
// How TDPBF16PS sums within one tile is the hardware's. The SDM's pseudo-code (pair by pair, each sum rounded to
// nearest) does not reproduce it: measured on a Xeon 5th generation, a single pair gives c + round(p0 + p1), but 2 to
// 16 pairs differ from every ordering of rounded f32 sums tried in up to half the outputs by an ulp. So the tests
// compare it with a double-precision oracle under a bound, and every M, tiling and thread count bitwise with M = 1.
// Products are exact (bf16 x bf16 in f32); a denormal bf16 input reads as zero, as in VDPBF16PS (no e4m3 code is one).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/convert_avx512.h"
#include "kernels/fp8_bf16_lut.h"
#include "kernels/linear_isa.h"
#include "kernels/panels.h"

namespace dsv32 {
namespace kernels {

namespace {

// The LDTILECFG operand (palette 1).
struct alignas(64) TileConfig {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// Tiles 0 (C), 1 (A) and 2 (B) for blocks of mb rows of x; 3 (C) and 4 (B) for a last block of mt rows (mt 0: none).
void configure_tiles(int mb, int mt) {
    TileConfig c;
    c.rows[0] = c.rows[1] = c.rows[2] = 16;
    c.colsb[0] = c.colsb[2] = uint16_t(4 * mb);
    c.colsb[1] = 64;
    if (mt > 0) {
        c.rows[3] = c.rows[4] = 16;
        c.colsb[3] = c.colsb[4] = uint16_t(4 * mt);
    }
    _tile_loadconfig(&c);
}

// The B tiles of x rows [m0, m0 + mb) (mb <= 16) from pack_x_bf16's FP8-order rows xb [M][K]: tile s (32 columns from
// 32 s) at out + s * 16 * mb, its row p (the column pair 32 s + 2 p, 2 p + 1) holding the pair of each of the mb rows.
void pack_b(const uint16_t* xb, int K, int m0, int mb, uint32_t* out) {
    const __mmask16 lanes = tail_mask(mb);  // convert_avx512.h
    for (int s = 0; s < K / 32; ++s) {
        __m512 r[16];
        for (int m = 0; m < 16; ++m)
            r[m] = m < mb ? _mm512_loadu_ps(xb + size_t(m0 + m) * size_t(K) + size_t(32 * s)) : _mm512_setzero_ps();
        transpose16(r);  // r[p] lane m: row m's pair p
        uint32_t* t = out + size_t(s) * 16 * size_t(mb);
        for (int p = 0; p < 16; ++p) _mm512_mask_storeu_ps(t + size_t(p) * size_t(mb), lanes, r[p]);
    }
}

// Rows [n + r0, n + r1) of W converted to bf16 into rows [r0, r1) of a (16 rows of K bf16). Rows of a past a short
// group's hold zeros or an earlier group's finite weights: their outputs are computed and dropped.
void convert_rows(const WeightMat& w, int n, int r0, int r1, const Lut& L, uint16_t* a) {
    const int K = w.in;
    const size_t stride = w.ld > 0 ? size_t(w.ld) : size_t(w.in);
    const uint8_t* base = static_cast<const uint8_t*>(w.data);
    const uint8_t* end = base + size_t(w.out) * stride;
    for (int r = r0; r < r1; ++r) {
        const uint8_t* p = base + size_t(n + r) * stride;
        uint16_t* o = a + size_t(r) * size_t(K);
        for (int k = 0; k < K; k += 64) {
            prefetch_stream(p + k, end);  // convert_avx512.h: the decode GEMVs read W once, from memory
            __m512bh w0, w1;
            fp8x64(p + k, L, &w0, &w1);
            _mm512_store_si512(o + k, (__m512i)w0);
            _mm512_store_si512(o + k + 32, (__m512i)w1);
        }
    }
}

// The tile intrinsics take their tile numbers as literals: C and B are tiles 0 and 2, or for the last block 3 and 4.
inline void zero_c(bool last) {
    if (last) _tile_zero(3);
    else _tile_zero(0);
}
inline void load_b_multiply(bool last, const uint32_t* b, int ld) {  // C += A B
    if (last) {
        _tile_loadd(4, b, ld);
        _tile_dpbf16ps(3, 1, 4);
    } else {
        _tile_loadd(2, b, ld);
        _tile_dpbf16ps(0, 1, 2);
    }
}
inline void store_c(bool last, float* c, int ld) {
    if (last) _tile_stored(3, c, ld);
    else _tile_stored(0, c, ld);
}

// One 128-column block k of a group against a block of mb rows of x: blk = the four tile products from 0, stored as
// [16 rows of W][mb] floats (cbuf), then tot[j] (floats 16 j .. 16 j + 15 of that layout) = fma(blk, s, tot[j]).
inline void block_step(const uint16_t* a, const uint32_t* b, int mb, bool last, int K, int k, float s, float* cbuf,
                       __m512* tot) {
    zero_c(last);
    for (int t = k / 32; t < k / 32 + 4; ++t) {
        _tile_loadd(1, a + size_t(32 * t), 2 * K);
        load_b_multiply(last, b + size_t(t) * 16 * size_t(mb), 4 * mb);
    }
    store_c(last, cbuf, 4 * mb);
    const __m512 sv = _mm512_set1_ps(s);
    for (int j = 0; j < mb; ++j) tot[j] = _mm512_fmadd_ps(_mm512_load_ps(cbuf + 16 * j), sv, tot[j]);
}

// y[m0 + m][n + r] = tot's [16][mb] layout, rows r < nr.
inline void store_y(__m512* tot, int mb, int nr, float* y, int N, int m0, int n, float* cbuf) {
    if (mb == 1) return _mm512_mask_storeu_ps(y + size_t(m0) * size_t(N) + size_t(n), tail_mask(nr), tot[0]);
    if (mb == 16) {  // a whole block of x (a prefill): tot[r] lane m, transposed to one store of nr outputs per row of y
        transpose16(tot);  // convert_avx512.h
        for (int m = 0; m < 16; ++m) _mm512_mask_storeu_ps(y + size_t(m0 + m) * size_t(N) + size_t(n), tail_mask(nr), tot[m]);
        return;
    }
    for (int j = 0; j < mb; ++j) _mm512_store_ps(cbuf + 16 * j, tot[j]);
    for (int r = 0; r < nr; ++r)
        for (int m = 0; m < mb; ++m) y[size_t(m0 + m) * size_t(N) + size_t(n + r)] = cbuf[r * mb + m];
}

// The end of the group from n: at most 16 rows, within n's 128-row block of scales (so one scale a block of columns
// serves the whole group) and within [n, n1).
inline int group_end(int n, int n1) { return std::min(std::min(n + 16, n1), (n / 128 + 1) * 128); }

}  // namespace

void linear_rows_amx(const uint16_t* xb, const WeightMat& w, float* y, int M, int n0, int n1) {
    const int K = w.in, N = w.out;
    const Lut L = make_lut();
    thread_local std::vector<uint16_t> abuf;
    thread_local std::vector<uint32_t> bbuf;
    uint16_t* a = aligned_scratch(abuf, size_t(32) * size_t(K));  // two groups' rows: this one's, the next one's
    uint16_t* a_next = a + size_t(16) * size_t(K);
    // Block j's tiles (x rows from 16 j) at b + 16 j * K / 2, where its rows start in xb.
    const uint32_t* b = reinterpret_cast<const uint32_t*>(xb);
    if (M > 1) {
        uint32_t* bp = aligned_scratch(bbuf, size_t(M) * size_t(K / 2));
        for (int m0 = 0; m0 < M; m0 += 16) pack_b(xb, K, m0, std::min(16, M - m0), bp + size_t(m0) * size_t(K / 2));
        b = bp;
    }
    const int mb = std::min(16, M), mt = M > 16 ? M % 16 : 0;
    configure_tiles(mb, mt);
    alignas(64) float cbuf[256];
    __m512 tot[16];
    const int KB = K / 128;
    if (M <= 16) {
        // A decode batch: while the tiles work on one group, the next group's rows are converted into the other buffer,
        // a few rows a 128-column block, so the conversion's stores are long done when the tiles load them.
        int n = n0, e = group_end(n0, n1);
        convert_rows(w, n, 0, e - n, L, a);
        while (n < n1) {
            const int nn = e, ee = nn < n1 ? group_end(nn, n1) : nn, next_rows = ee - nn, per = (next_rows + KB - 1) / KB;
            const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
            for (int j = 0; j < mb; ++j) tot[j] = _mm512_setzero_ps();
            for (int kb = 0; kb < KB; ++kb) {
                if (next_rows > 0) convert_rows(w, nn, std::min(next_rows, kb * per), std::min(next_rows, (kb + 1) * per), L, a_next);
                block_step(a, b, mb, false, K, 128 * kb, srow[kb], cbuf, tot);
            }
            store_y(tot, mb, e - n, y, N, 0, n, cbuf);
            std::swap(a, a_next);
            n = nn;
            e = ee;
        }
    } else {
        // A prefill: each group's rows converted once, then every block of 16 rows of x against them.
        for (int n = n0; n < n1;) {
            const int e = group_end(n, n1);
            convert_rows(w, n, 0, e - n, L, a);
            const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
            for (int m0 = 0; m0 < M; m0 += 16) {
                const int rows = std::min(16, M - m0);
                const uint32_t* bb = b + size_t(m0) * size_t(K / 2);
                for (int j = 0; j < rows; ++j) tot[j] = _mm512_setzero_ps();
                for (int kb = 0; kb < KB; ++kb) block_step(a, bb, rows, rows < 16, K, 128 * kb, srow[kb], cbuf, tot);
                store_y(tot, rows, e - n, y, N, m0, n, cbuf);
            }
            n = e;
        }
    }
    _tile_release();  // a thread holding no tile state saves none at a context switch
}

// ---- The bf16 head from its row panels (panels.h) ----
//
// A panel's layout is already the B operand's: for column pair q its 64 rows' pairs lie in one 256-byte line group,
// so the tile of 16 pairs (32 columns) by the 16 rows of quarter v starts at dword (p Q + q) 64 + 16 v with rows 256
// bytes apart. x is the A operand: rows of pack_x_bf16's natural order (xp, Q dwords a row), up to 16 rows a block,
// a tile 64 bytes (32 columns) of each. C: a block's rows of x by the 16 rows of a quarter, in f32, over all of K
// (a BF16 W has no block scales), four quarters in four tiles. Per output y[m][n]: TDPBF16PS over the 32-column
// steps in order, from 0; the same for every M and thread count (within a tile the hardware's order, as above).

namespace {

// Tiles 0-3: C of the four quarters (mb rows x 16 floats); 4: A (mb rows x 64 bytes); 5, 6: B (16 x 64 bytes).
void configure_panel_tiles(int mb) {
    TileConfig c;
    for (int t = 0; t < 5; ++t) {
        c.rows[t] = uint8_t(mb);
        c.colsb[t] = 64;
    }
    c.rows[5] = c.rows[6] = 16;
    c.colsb[5] = c.colsb[6] = 64;
    _tile_loadconfig(&c);
}

// Panel pi against rows [m0, m0 + mb) of x.
void panel_block(const uint32_t* xp, const Bf16Panels& w, float* y, int m0, int mb, int pi, const uint8_t* end, float* cbuf) {
    const int Q = w.in / 2;
    const uint32_t* p = w.data.get() + size_t(pi) * size_t(Q) * PANEL_ROWS;
    const uint32_t* xr = xp + size_t(m0) * size_t(Q);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int q = 0; q < Q; q += 16) {
        const uint32_t* pq = p + size_t(q) * PANEL_ROWS;  // 4 KB: 16 pairs of the panel's 64 rows
        for (int line = 0; line < 4096; line += 64) prefetch_stream(reinterpret_cast<const uint8_t*>(pq) + line, end);
        _tile_loadd(4, xr + q, 4 * Q);
        _tile_loadd(5, pq, 256);
        _tile_dpbf16ps(0, 4, 5);
        _tile_loadd(6, pq + 16, 256);
        _tile_dpbf16ps(1, 4, 6);
        _tile_loadd(5, pq + 32, 256);
        _tile_dpbf16ps(2, 4, 5);
        _tile_loadd(6, pq + 48, 256);
        _tile_dpbf16ps(3, 4, 6);
    }
    const int n0 = pi * PANEL_ROWS, N = w.out;
    if (n0 + PANEL_ROWS <= N) {  // a whole panel: straight into y
        float* yr = y + size_t(m0) * size_t(N) + size_t(n0);
        _tile_stored(0, yr, 4 * N);
        _tile_stored(1, yr + 16, 4 * N);
        _tile_stored(2, yr + 32, 4 * N);
        _tile_stored(3, yr + 48, 4 * N);
        return;
    }
    _tile_stored(0, cbuf, 256);  // the last panel: its rows past out dropped
    _tile_stored(1, cbuf + 16, 256);
    _tile_stored(2, cbuf + 32, 256);
    _tile_stored(3, cbuf + 48, 256);
    for (int m = 0; m < mb; ++m)
        for (int r = 0; r < N - n0; ++r) y[size_t(m0 + m) * size_t(N) + size_t(n0 + r)] = cbuf[64 * m + r];
}

}  // namespace

bool panels_amx_layout_ok(const Bf16Panels& w) { return w.in % 32 == 0; }

void linear_panels_amx(const uint32_t* xp, const Bf16Panels& w, float* y, int M, int p0, int p1) {
    const uint8_t* end = reinterpret_cast<const uint8_t*>(w.data.get()) + w.nbytes();
    alignas(64) float cbuf[16 * PANEL_ROWS];
    int configured = 0;
    for (int pi = p0; pi < p1; ++pi)
        for (int m0 = 0; m0 < M; m0 += 16) {  // a panel (128 KB at in = 1024) stays in L2 across the blocks of x
            const int mb = std::min(16, M - m0);
            if (mb != configured) configure_panel_tiles(configured = mb);
            panel_block(xp, w, y, m0, mb, pi, end, cbuf);
        }
    _tile_release();
}

// ---- The indexer's scores of one query (attention.h, index_scores on bf16 values) ----
//
// q . k for all the query's heads and 16 keys a block as one tile product: the keys are the A operand (16 keys by 32
// columns, copied as bf16 into a 16-row buffer), the query the B operand (its pairs by 16 heads: index_scores_bf16dot's
// qB, [hd / 2][nh] dwords, already that layout), C = 16 keys by 16 heads, over the columns in steps of 32, up to four
// head groups (tiles 0-3) a pass. Then per key, as the VDPBF16PS kernel does after its dot products (index_head_sum):
// tot lanes = fma(ReLU(C), w, tot) over the head groups in order, and the score = a transposing tree of the 16 lanes
// (reduce16). Per score, whatever the batching of queries and keys: q . k in the tiles' order (32 columns a step, from
// 0), the head sum as stated.

namespace {

// Tiles 0-3: C (16 keys x 16 heads); 4: A (16 keys x 32 columns); 5: B (16 pairs x 16 heads).
void configure_index_tiles() {
    TileConfig c;
    for (int t = 0; t < 6; ++t) {
        c.rows[t] = 16;
        c.colsb[t] = 64;
    }
    _tile_loadconfig(&c);
}

// 16 keys' bf16 rows into kbuf [16][hd] (keys past n: zero); float keys hold bf16 values (exact).
inline void gather_keys(const uint16_t* const* keys, int t0, int n, int hd, uint16_t* kbuf) {
    for (int u = 0; u < 16; ++u) {
        uint16_t* o = kbuf + size_t(u) * size_t(hd);
        if (t0 + u < n) std::copy_n(keys[t0 + u], hd, o);
        else std::fill_n(o, hd, uint16_t(0));
    }
}
inline void gather_keys(const float* const* keys, int t0, int n, int hd, uint16_t* kbuf) {
    for (int u = 0; u < 16; ++u) {
        uint16_t* o = kbuf + size_t(u) * size_t(hd);
        for (int c = 0; c < hd; c += 32) {
            const __m512i v = t0 + u < n ? (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(keys[t0 + u] + c + 16), _mm512_loadu_ps(keys[t0 + u] + c))
                                         : _mm512_setzero_si512();
            _mm512_store_si512(o + c, v);
        }
    }
}

template <class K>
void index_query_amx_impl(const uint32_t* qB, int nh, int hd, const float* w, const K* const* keys, int n, float* out) {
    thread_local std::vector<uint16_t> kb;
    uint16_t* kbuf = aligned_scratch(kb, size_t(16) * size_t(hd));
    alignas(64) float cbuf[4 * 256];
    configure_index_tiles();
    const int HV = nh / 16;
    const __m512 zero = _mm512_setzero_ps();
    for (int t0 = 0; t0 < n; t0 += 16) {
        for (int u = t0 + 16; u < std::min(t0 + 32, n); ++u)  // the next block's keys, from memory
            for (size_t c = 0; c < size_t(hd) * sizeof(K); c += 64) _mm_prefetch(reinterpret_cast<const char*>(keys[u]) + c, _MM_HINT_T0);
        gather_keys(keys, t0, n, hd, kbuf);
        __m512 tot[16];
        for (int u = 0; u < 16; ++u) tot[u] = zero;
        for (int v0 = 0; v0 < HV; v0 += 4) {
            const int nv = std::min(4, HV - v0);
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int c = 0; c < hd; c += 32) {
                _tile_loadd(4, kbuf + c, 2 * hd);
                const uint32_t* qc = qB + size_t(c / 2) * size_t(nh) + size_t(16 * v0);
                _tile_loadd(5, qc, 4 * nh);
                _tile_dpbf16ps(0, 4, 5);
                if (nv > 1) {
                    _tile_loadd(5, qc + 16, 4 * nh);
                    _tile_dpbf16ps(1, 4, 5);
                }
                if (nv > 2) {
                    _tile_loadd(5, qc + 32, 4 * nh);
                    _tile_dpbf16ps(2, 4, 5);
                }
                if (nv > 3) {
                    _tile_loadd(5, qc + 48, 4 * nh);
                    _tile_dpbf16ps(3, 4, 5);
                }
            }
            _tile_stored(0, cbuf, 64);
            _tile_stored(1, cbuf + 256, 64);
            _tile_stored(2, cbuf + 512, 64);
            _tile_stored(3, cbuf + 768, 64);
            for (int v = 0; v < nv; ++v) {
                const __m512 wv = _mm512_loadu_ps(w + 16 * (v0 + v));
                for (int u = 0; u < 16; ++u)
                    tot[u] = _mm512_fmadd_ps(_mm512_max_ps(_mm512_load_ps(cbuf + 256 * v + 16 * u), zero), wv, tot[u]);
            }
        }
        _mm512_mask_storeu_ps(out + t0, tail_mask(n - t0), reduce16(tot));  // convert_avx512.h
    }
    _tile_release();
}

}  // namespace

void index_query_amx(const uint32_t* qB, int nh, int hd, const float* w, const float* const* keys, int n, float* out) {
    index_query_amx_impl(qB, nh, hd, w, keys, n, out);
}
void index_query_amx(const uint32_t* qB, int nh, int hd, const float* w, const uint16_t* const* keys, int n, float* out) {
    index_query_amx_impl(qB, nh, hd, w, keys, n, out);
}

// ---- The absorbed MLA decode scores (attention.h, mla_scores on bf16 values) ----
//
// The keys are the A operand (16 selected rows a block, their latent then their rope part copied as bf16 into one
// 16-row buffer, once for all the head groups), each group's query the B operand (mla_scores_bf16dot's qB: pairs by 16
// heads, latent pairs then rope pairs, already that layout), C = 16 keys by 16 heads over the kvr / 32 latent steps
// then the dr / 32 rope steps. Per score, whatever the keys' blocking: that chain from 0 (the tiles' order), times scale.

void mla_scores_amx(const uint32_t* qB, int nh, int kvr, int dr, const uint16_t* const* lat, const uint16_t* const* pe,
                    int nkeys, float scale, float* p, size_t pstride) {
    const int W = kvr + dr;
    thread_local std::vector<uint16_t> kb;
    uint16_t* kbuf = aligned_scratch(kb, size_t(16) * size_t(W));
    alignas(64) float cbuf[256];
    configure_index_tiles();  // 16 x 64 bytes each: C 0, A 4, B 5
    const __m512 sv = _mm512_set1_ps(scale);
    for (int t0 = 0; t0 < nkeys; t0 += 16) {
        for (int u = t0 + 16; u < std::min(t0 + 32, nkeys); ++u) {  // the next block's rows (scattered over the cache)
            for (int c = 0; c < kvr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(lat[u] + c), _MM_HINT_T0);
            for (int c = 0; c < dr; c += 32) _mm_prefetch(reinterpret_cast<const char*>(pe[u] + c), _MM_HINT_T0);
        }
        for (int u = 0; u < 16; ++u) {
            uint16_t* o = kbuf + size_t(u) * size_t(W);
            if (t0 + u < nkeys) {
                std::copy_n(lat[t0 + u], kvr, o);
                std::copy_n(pe[t0 + u], dr, o + kvr);
            } else {
                std::fill_n(o, W, uint16_t(0));
            }
        }
        const __mmask16 km = tail_mask(nkeys - t0);
        for (int h0 = 0; h0 < nh; h0 += 16) {
            const uint32_t* qg = qB + size_t(h0) * size_t(W / 2);  // the group's pairs by 16 heads
            _tile_zero(0);
            for (int c = 0; c < W; c += 32) {
                _tile_loadd(4, kbuf + c, 2 * W);
                _tile_loadd(5, qg + size_t(c / 2) * 16, 64);
                _tile_dpbf16ps(0, 4, 5);
            }
            _tile_stored(0, cbuf, 64);
            __m512 r[16];
            for (int u = 0; u < 16; ++u) r[u] = _mm512_load_ps(cbuf + 16 * u);
            transpose16(r);  // r[h] lane u: head h0 + h, key t0 + u
            for (int h = 0; h < std::min(16, nh - h0); ++h)
                _mm512_mask_storeu_ps(p + size_t(h0 + h) * pstride + size_t(t0), km, _mm512_mul_ps(r[h], sv));
        }
    }
    _tile_release();
}

// ---- The absorbed MLA decode values (attention.h, mla_values on bf16 probabilities and rows) ----
//
// o[h][c] = sum_j p[h][j] lat[j][c]: the probabilities are the A operand (up to 16 heads by 32 keys, straight from p),
// the rows the B operand: per 32 columns and key pair, VPUNPCK{L,H}WD of the two rows give the pairs of 16 columns each
// (lo: columns 8 b + i, hi: 8 b + 4 + i of lane 4 b + i, as values_group orders them), stored as B tiles of 16 key pairs.
// C = heads by those 16 columns, lo and hi in two tiles, put back in column order on the store. Per output: the chain
// over the keys' 32-key steps from 0, for [0, split) and then [split, nkeys) added (attention.h), whatever the split of
// the columns or heads.

namespace {

// Tiles 0, 1: C (ng rows x 16 floats); 2: A (ng rows x 32 keys); 3: B (16 key pairs x 16 columns).
void configure_value_tiles(int ng) {
    TileConfig c;
    c.rows[0] = c.rows[1] = c.rows[2] = uint8_t(ng);
    c.rows[3] = 16;
    c.colsb[0] = c.colsb[1] = c.colsb[2] = c.colsb[3] = 64;
    _tile_loadconfig(&c);
}

}  // namespace

void mla_values_amx(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0, int c1,
                    float* o_lat, int split) {
    if (nkeys <= 0 || c0 >= c1) return;
    const int s = split > 0 && split < nkeys ? split : nkeys;
    thread_local std::vector<uint32_t> bv;
    const int pairs_max = (std::max(s, nkeys - s) + 1) / 2, chunks_max = (pairs_max + 15) / 16;
    uint32_t* blo = aligned_scratch(bv, size_t(2) * size_t(chunks_max) * 256);  // B tiles: lo columns, then hi
    uint32_t* bhi = blo + size_t(chunks_max) * 256;
    alignas(64) uint16_t abuf[16 * 32];
    alignas(64) float clo[256], chi[256];
    const __m512i first = _mm512_set_epi32(23, 22, 21, 20, 7, 6, 5, 4, 19, 18, 17, 16, 3, 2, 1, 0);
    const __m512i second = _mm512_set_epi32(31, 30, 29, 28, 15, 14, 13, 12, 27, 26, 25, 24, 11, 10, 9, 8);
    for (int h0 = 0; h0 < nh; h0 += 16) {
        const int ng = std::min(16, nh - h0);
        configure_value_tiles(ng);
        for (int c = c0; c < c1; c += 32) {
            const __mmask32 m = c1 - c >= 32 ? __mmask32(0xFFFFFFFFu) : __mmask32((1u << (c1 - c)) - 1u);
            const __mmask16 m0 = tail_mask(c1 - c), m1 = c1 - c > 16 ? tail_mask(c1 - c - 16) : __mmask16(0);
            for (int half = 0; half < (s < nkeys ? 2 : 1); ++half) {
                const int j0 = half ? s : 0, n = (half ? nkeys : s) - j0, pairs = (n + 1) / 2, chunks = (pairs + 15) / 16;
                for (int q = 0; q < 16 * chunks; ++q) {  // key pair q: rows j0 + 2q, j0 + 2q + 1 (past the half: zero)
                    const int j = j0 + 2 * q;
                    if (j + 16 < j0 + n) _mm_prefetch(reinterpret_cast<const char*>(lat[j + 16] + c), _MM_HINT_T0);
                    if (j + 17 < j0 + n) _mm_prefetch(reinterpret_cast<const char*>(lat[j + 17] + c), _MM_HINT_T0);
                    const __m512i r0 = 2 * q < n ? _mm512_maskz_loadu_epi16(m, lat[j] + c) : _mm512_setzero_si512();
                    const __m512i r1 = 2 * q + 1 < n ? _mm512_maskz_loadu_epi16(m, lat[j + 1] + c) : _mm512_setzero_si512();
                    _mm512_store_si512(blo + size_t(q) * 16, _mm512_unpacklo_epi16(r0, r1));
                    _mm512_store_si512(bhi + size_t(q) * 16, _mm512_unpackhi_epi16(r0, r1));
                }
                _tile_zero(0);
                _tile_zero(1);
                for (int k = 0; k < chunks; ++k) {
                    const int kj = 32 * k;  // this step's first key in the half
                    if (kj + 32 <= n) {
                        _tile_loadd(2, p + size_t(h0) * pstride + size_t(j0 + kj), int(2 * pstride));
                    } else {  // the half's last keys: the probabilities past it zero
                        const __mmask32 km = __mmask32((1ull << (n - kj)) - 1u);
                        for (int g = 0; g < ng; ++g)
                            _mm512_store_si512(abuf + 32 * g, _mm512_maskz_loadu_epi16(km, p + size_t(h0 + g) * pstride + size_t(j0 + kj)));
                        _tile_loadd(2, abuf, 64);
                    }
                    _tile_loadd(3, blo + size_t(k) * 256, 64);
                    _tile_dpbf16ps(0, 2, 3);
                    _tile_loadd(3, bhi + size_t(k) * 256, 64);
                    _tile_dpbf16ps(1, 2, 3);
                }
                _tile_stored(0, clo, 64);
                _tile_stored(1, chi, 64);
                for (int g = 0; g < ng; ++g) {
                    float* o = o_lat + size_t(h0 + g) * size_t(kvr) + size_t(c);
                    const __m512 lo = _mm512_load_ps(clo + 16 * g), hi = _mm512_load_ps(chi + 16 * g);
                    __m512 v0 = _mm512_permutex2var_ps(lo, first, hi), v1 = _mm512_permutex2var_ps(lo, second, hi);
                    if (half) {
                        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, o), v0);
                        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, o + 16), v1);
                    }
                    _mm512_mask_storeu_ps(o, m0, v0);
                    _mm512_mask_storeu_ps(o + 16, m1, v1);
                }
            }
        }
    }
    _tile_release();
}

}  // namespace kernels
}  // namespace dsv32
