// linear_avx512bf16.cpp: the AVX512-BF16 row kernels of kernels::linear for FP8 weights and an x that holds bf16
// values (XValues::Bf16: the fp8 numerics, where every FP8 linear's input is act_quant's e4m3 * 2^e). Compiled
// with -mavx512f -mavx512bw -mavx512vl -mavx512bf16 -mavx512vbmi -mfma (CMakeLists.txt); called only when the CPU has
// them (bf16_dot_supported()). Reference: linear_rows_scalar in linear.cpp (test_kernels compares against it).
//
// Why it is exact: an e4m3 code and a bf16 activation are both bf16 values, so VDPBF16PS forms each product exactly in
// f32 and only the f32 sums round, as in the f32 kernels (the order of the sums differs; the FP8 block scale is applied
// to each 128-block's sum, as fp8_gemm_ref does). Denormal bf16 inputs count as zero in VDPBF16PS; no e4m3 code is one
// (the smallest, 2^-9, is a normal bf16) and an activation under 2^-126 contributes nothing an f32 sum would keep.
//
// e4m3 -> bf16: fp8_bf16_lut.h, two VPERMI2B lookups; a 64-code chunk becomes two vectors w0 = codes {0..7, 16..23,
// 32..39, 48..55} and w1 = the other 32; pack_x_bf16 lays x out in the same order, so each product pairs the right column.
//
// The arithmetic of one output y[m][n] (the contract that makes every M and every tiling give the same bits):
//   tot = 0; per 128-block b: blk = 0, then blk = dp(blk, w, x) over its four 32-pair vectors in order (w0, w1 of
//   columns 0..63, then of 64..127); tot = fma(blk, scale[b], tot). y = reduce_add(tot).
// BF16 weights (the head; K % 64 == 0) take x in natural column order, so each VDPBF16PS pairs 32 weights as stored
// with 32 columns of x; one output y[m][n]: two chains c0 (the even 32-column steps) and c1 (the odd), y =
// reduce_add(c0 + c1), at every M. At M = 4 this runs the head at about twice the rate of the f32 kernels, which
// widen every weight and spend a load per x vector per FMA.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/aligned_scratch.h"
#include "kernels/attention.h"
#include "kernels/convert_avx512.h"
#include "kernels/fp8_bf16_lut.h"
#include "kernels/linear_isa.h"
#include "kernels/pair_tiles.h"

namespace dsv32 {
namespace kernels {

namespace {

#define DSV32_UNROLL _Pragma("GCC unroll 8")

inline size_t row_stride(const WeightMat& w) { return w.ld > 0 ? size_t(w.ld) : size_t(w.in); }

inline __m512bh ldbh(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }

// ---- FP8 weights ----

// M == 1: R rows of W at once (R independent chains), converted in registers.
template <int R>
void fp8_gemv(const uint16_t* xb, const WeightMat& w, float* y, int n, const Lut& L) {
    const int K = w.in;
    const uint8_t* p[R];
    const float* srow[R];
    __m512 tot[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) {
        p[r] = static_cast<const uint8_t*>(w.data) + size_t(n + r) * row_stride(w);
        srow[r] = w.scale + size_t((n + r) / 128) * size_t(w.scale_cols);
        tot[r] = _mm512_setzero_ps();
    }
    const uint8_t* end = static_cast<const uint8_t*>(w.data) + size_t(w.out) * row_stride(w);
    for (int k = 0; k < K; k += 128) {
        const __m512bh x0 = ldbh(xb + k), x1 = ldbh(xb + k + 32), x2 = ldbh(xb + k + 64), x3 = ldbh(xb + k + 96);
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            prefetch_stream(p[r] + k, end);  // convert_avx512.h
            prefetch_stream(p[r] + k + 64, end);
            __m512bh w0, w1, w2, w3;
            fp8x64(p[r] + k, L, &w0, &w1);
            fp8x64(p[r] + k + 64, L, &w2, &w3);
            __m512 blk = _mm512_dpbf16_ps(_mm512_setzero_ps(), w0, x0);
            blk = _mm512_dpbf16_ps(blk, w1, x1);
            blk = _mm512_dpbf16_ps(blk, w2, x2);
            blk = _mm512_dpbf16_ps(blk, w3, x3);
            tot[r] = _mm512_fmadd_ps(blk, _mm512_set1_ps(srow[r][k / 128]), tot[r]);
        }
    }
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) y[n + r] = _mm512_reduce_add_ps(tot[r]);
}

// Small M (decode batches): row n's codes converted once in registers and applied to MG rows of x [m0, m0 + MG).
template <int MG>
void fp8_small(const uint16_t* xb, const WeightMat& w, float* y, int m0, int n, const Lut& L) {
    const int K = w.in, N = w.out;
    const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
    const uint8_t* end = static_cast<const uint8_t*>(w.data) + size_t(w.out) * row_stride(w);
    const float* srow = w.scale + size_t(n / 128) * size_t(w.scale_cols);
    __m512 tot[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) tot[m] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 128) {
        prefetch_stream(p + k, end);  // as fp8_gemv
        prefetch_stream(p + k + 64, end);
        __m512bh w0, w1, w2, w3;
        fp8x64(p + k, L, &w0, &w1);
        fp8x64(p + k + 64, L, &w2, &w3);
        const __m512 s = _mm512_set1_ps(srow[k / 128]);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const uint16_t* xr = xb + size_t(m0 + m) * size_t(K) + k;
            __m512 blk = _mm512_dpbf16_ps(_mm512_setzero_ps(), w0, ldbh(xr));
            blk = _mm512_dpbf16_ps(blk, w1, ldbh(xr + 32));
            blk = _mm512_dpbf16_ps(blk, w2, ldbh(xr + 64));
            blk = _mm512_dpbf16_ps(blk, w3, ldbh(xr + 96));
            tot[m] = _mm512_fmadd_ps(blk, s, tot[m]);
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) y[size_t(m0 + m) * size_t(N) + size_t(n)] = _mm512_reduce_add_ps(tot[m]);
}

// Small M up to 4 (decode batches): rows n and n + 1 of W at once against rows [m0, m0 + MG) of x, each x vector loaded
// once for both rows. This core sustains about one 512-bit load per 1.7 cycles (0.45 ns, from L1), so fp8_small's 16 x
// loads per 128 weights at M = 4 bound it: 11.3 ns per 128 weights on one core with W and x in L2, this kernel 8.1;
// in the engine, batch-4 fp8 decode steps of 25.2 -> 24.4 ms (median of three pairs, every pair faster). 4 * MG block
// chains and 4 * MG totals: MG <= 4 fits the 32 registers. Each output's arithmetic is fp8_small's (and fp8_gemv's):
// the four 32-pair steps of a block in order, then its scale. Not inlined into linear_rows_bf16dot: inlined, the M = 1
// decode step ran 5 % slower (its GEMV's code changed with it).
template <int MG>
__attribute__((noinline)) void fp8_small_pair(const uint16_t* xb, const WeightMat& w, float* y, int m0, int n, const Lut& L) {
    static_assert(MG >= 1 && MG <= 4, "registers: 4 * MG chains and totals");
    const int K = w.in, N = w.out;
    const Fp8RowPair rows = fp8_row_pair(w, n);  // convert_avx512.h
    const uint8_t *pa = rows.a, *pb = rows.b;
    const float *sa = rows.sa, *sb = rows.sb;
    __m512 ta[MG], tb[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) ta[m] = tb[m] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 128) {
        prefetch_row_pair(rows, k);  // convert_avx512.h
        __m512 ba[MG], bb[MG];
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) ba[m] = bb[m] = _mm512_setzero_ps();
        DSV32_UNROLL
        for (int h = 0; h < 128; h += 64) {  // columns [h, h + 64) of the block: its steps w0, w1, then w2, w3
            __m512bh a0, a1, b0, b1;
            fp8x64(pa + k + h, L, &a0, &a1);
            fp8x64(pb + k + h, L, &b0, &b1);
            DSV32_UNROLL
            for (int m = 0; m < MG; ++m) {
                const uint16_t* xr = xb + size_t(m0 + m) * size_t(K) + k + h;
                const __m512bh x0 = ldbh(xr), x1 = ldbh(xr + 32);
                ba[m] = _mm512_dpbf16_ps(ba[m], a0, x0);
                bb[m] = _mm512_dpbf16_ps(bb[m], b0, x0);
                ba[m] = _mm512_dpbf16_ps(ba[m], a1, x1);
                bb[m] = _mm512_dpbf16_ps(bb[m], b1, x1);
            }
        }
        const __m512 sva = _mm512_set1_ps(sa[k / 128]), svb = _mm512_set1_ps(sb[k / 128]);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            ta[m] = _mm512_fmadd_ps(ba[m], sva, ta[m]);
            tb[m] = _mm512_fmadd_ps(bb[m], svb, tb[m]);
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) {
        y[size_t(m0 + m) * size_t(N) + size_t(n)] = _mm512_reduce_add_ps(ta[m]);
        y[size_t(m0 + m) * size_t(N) + size_t(n + 1)] = _mm512_reduce_add_ps(tb[m]);
    }
}

// Large M (prefill): the rows of W the call computes are converted once into scratch (bf16, the same lane order:
// convert_rows); fp8_gemm then applies R of them (wt, R consecutive rows of K) to the rows [m0, m1) of x two at a time:
// 2R block chains and 2R totals in registers, the converted rows read from L1 / L2.
void convert_rows(const WeightMat& w, int n0, int n1, const Lut& L, uint16_t* wt) {
    const int K = w.in;
    for (int n = n0; n < n1; ++n) {
        const uint8_t* p = static_cast<const uint8_t*>(w.data) + size_t(n) * row_stride(w);
        uint16_t* o = wt + size_t(n - n0) * size_t(K);
        for (int k = 0; k < K; k += 64) {
            __m512bh w0, w1;
            fp8x64(p + k, L, &w0, &w1);
            _mm512_store_si512(o + k, (__m512i)w0);
            _mm512_store_si512(o + k + 32, (__m512i)w1);
        }
    }
}

template <int R>
void fp8_gemm(const uint16_t* xb, const WeightMat& w, float* y, int m0, int M, int n, const uint16_t* wt) {
    const int K = w.in, N = w.out;
    const float* srow[R];
    DSV32_UNROLL
    for (int r = 0; r < R; ++r) srow[r] = w.scale + size_t((n + r) / 128) * size_t(w.scale_cols);
    int m = m0;
    for (; m + 2 <= M; m += 2) {
        const uint16_t* xa = xb + size_t(m) * size_t(K);
        const uint16_t* xc = xa + size_t(K);
        __m512 ta[R], tc[R];
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) ta[r] = tc[r] = _mm512_setzero_ps();
        for (int k = 0; k < K; k += 128) {
            __m512 ba[R], bc[R];
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) ba[r] = bc[r] = _mm512_setzero_ps();
            DSV32_UNROLL
            for (int j = 0; j < 128; j += 32) {
                const __m512bh va = ldbh(xa + k + j), vc = ldbh(xc + k + j);
                DSV32_UNROLL
                for (int r = 0; r < R; ++r) {
                    const __m512bh wv = (__m512bh)_mm512_load_si512(wt + size_t(r) * size_t(K) + k + j);
                    ba[r] = _mm512_dpbf16_ps(ba[r], wv, va);
                    bc[r] = _mm512_dpbf16_ps(bc[r], wv, vc);
                }
            }
            DSV32_UNROLL
            for (int r = 0; r < R; ++r) {
                const __m512 s = _mm512_set1_ps(srow[r][k / 128]);
                ta[r] = _mm512_fmadd_ps(ba[r], s, ta[r]);
                tc[r] = _mm512_fmadd_ps(bc[r], s, tc[r]);
            }
        }
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            y[size_t(m) * size_t(N) + size_t(n + r)] = _mm512_reduce_add_ps(ta[r]);
            y[size_t(m + 1) * size_t(N) + size_t(n + r)] = _mm512_reduce_add_ps(tc[r]);
        }
    }
    for (; m < M; ++m) {
        const uint16_t* xa = xb + size_t(m) * size_t(K);
        DSV32_UNROLL
        for (int r = 0; r < R; ++r) {
            const uint16_t* wr = wt + size_t(r) * size_t(K);
            __m512 t = _mm512_setzero_ps();
            for (int k = 0; k < K; k += 128) {
                __m512 b = _mm512_setzero_ps();
                DSV32_UNROLL
                for (int j = 0; j < 128; j += 32)
                    b = _mm512_dpbf16_ps(b, (__m512bh)_mm512_load_si512(wr + k + j), ldbh(xa + k + j));
                t = _mm512_fmadd_ps(b, _mm512_set1_ps(srow[r][k / 128]), t);
            }
            y[size_t(m) * size_t(N) + size_t(n + r)] = _mm512_reduce_add_ps(t);
        }
    }
}

// Up to this many rows of x the FP8 kernel converts in registers per row of W (fp8_small), above it per tile (fp8_gemm).
constexpr int SMALL_M = 16;

// ---- BF16 weights ----

// Row n of W against rows [m0, m0 + MG) of x (natural order), two chains per row of x (2 * MG <= 16 accumulators).
// One row of W at a time and prefetched 3 rows on: with two or four rows of W in flight, or 8 rows ahead, the head
// streamed 10-30 % slower at M = 1 to 4 (measured on the 129280 x 1024 head, 2 threads).
template <int MG>
void bf16w_rows(const uint16_t* xb, const WeightMat& w, float* y, int m0, int n) {
    const int K = w.in, N = w.out;
    const uint16_t* p = static_cast<const uint16_t*>(w.data) + size_t(n) * row_stride(w);
    const uint16_t* ahead = p + 3 * row_stride(w);
    __m512 c0[MG], c1[MG];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) c0[m] = c1[m] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(ahead + k), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(ahead + k + 32), _MM_HINT_T0);
        const __m512bh wa = ldbh(p + k), wb = ldbh(p + k + 32);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const uint16_t* xr = xb + size_t(m0 + m) * size_t(K) + k;
            c0[m] = _mm512_dpbf16_ps(c0[m], wa, ldbh(xr));
            c1[m] = _mm512_dpbf16_ps(c1[m], wb, ldbh(xr + 32));
        }
    }
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m) y[size_t(m0 + m) * size_t(N) + size_t(n)] = _mm512_reduce_add_ps(_mm512_add_ps(c0[m], c1[m]));
}

// Rows [n0, n1) of W, each against the rows of x in groups of up to 8: Kernel<mg>::run(m0, n, args...) per group.
template <template <int> class Kernel, class... Args>
void row_groups(int M, int n0, int n1, const Args&... args) {
    for (int n = n0; n < n1; ++n)
        for (int m0 = 0; m0 < M; m0 += 8) {
            switch (M - m0 < 8 ? M - m0 : 8) {
                case 8: Kernel<8>::run(m0, n, args...); break;
                case 7: Kernel<7>::run(m0, n, args...); break;
                case 6: Kernel<6>::run(m0, n, args...); break;
                case 5: Kernel<5>::run(m0, n, args...); break;
                case 4: Kernel<4>::run(m0, n, args...); break;
                case 3: Kernel<3>::run(m0, n, args...); break;
                case 2: Kernel<2>::run(m0, n, args...); break;
                default: Kernel<1>::run(m0, n, args...); break;
            }
        }
}
template <int MG>
struct Fp8Small {
    static void run(int m0, int n, const uint16_t* xb, const WeightMat& w, float* y, const Lut& L) {
        fp8_small<MG>(xb, w, y, m0, n, L);
    }
};
template <int MG>
struct Bf16Rows {
    static void run(int m0, int n, const uint16_t* xb, const WeightMat& w, float* y) { bf16w_rows<MG>(xb, w, y, m0, n); }
};

}  // namespace

bool bf16_dot_layout_ok(const WeightMat& w) {
    if (w.type == WType::BF16) return w.in % 64 == 0;
    return w.type == WType::FP8 && w.in % 128 == 0 && w.scale != nullptr;
}

bool pack_x_bf16(const float* x, int M, int K, WType wt, uint16_t* out) {
    const __m512i low = _mm512_set1_epi32(0xFFFF);
    __m512i bad = _mm512_setzero_si512();
    if (wt == WType::BF16) {  // natural order (also the bf16 pairs of the row-panel GEMV, panels.h); any M * K
        const size_t n = size_t(M) * size_t(K);
        for (size_t i = 0; i < n; i += 16) {
            const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
            const __m512i v = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, x + i));
            bad = _mm512_or_si512(bad, _mm512_and_si512(v, low));
            _mm256_mask_storeu_epi16(out + i, m, _mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16)));
        }
        return _mm512_test_epi32_mask(bad, bad) == 0;
    }
    for (int m = 0; m < M; ++m) {
        const float* xr = x + size_t(m) * size_t(K);
        uint16_t* o = out + size_t(m) * size_t(K);
        for (int k = 0; k < K; k += 16) {
            const __m512i v = _mm512_castps_si512(_mm512_loadu_ps(xr + k));
            bad = _mm512_or_si512(bad, _mm512_and_si512(v, low));
            store_x_fp8_order(o, k, v);  // convert_avx512.h
        }
    }
    return _mm512_test_epi32_mask(bad, bad) == 0;
}

void linear_rows_bf16dot(const uint16_t* xb, const WeightMat& w, float* y, int M, int n0, int n1) {
    if (w.type == WType::BF16) return row_groups<Bf16Rows>(M, n0, n1, xb, w, y);
#if defined(DSV32_AMX_KERNELS)
    if (amx_enabled()) return linear_rows_amx(xb, w, y, M, n0, n1);
#endif
    const Lut L = make_lut();
    if (M == 1) {
        int n = n0;
        for (; n + 4 <= n1; n += 4) fp8_gemv<4>(xb, w, y, n, L);
        for (; n < n1; ++n) fp8_gemv<1>(xb, w, y, n, L);
        return;
    }
    if (M <= 4) {
        int n = n0;
        for (; n + 2 <= n1; n += 2) {
            switch (M) {
                case 4: fp8_small_pair<4>(xb, w, y, 0, n, L); break;
                case 3: fp8_small_pair<3>(xb, w, y, 0, n, L); break;
                default: fp8_small_pair<2>(xb, w, y, 0, n, L); break;
            }
        }
        if (n < n1) row_groups<Fp8Small>(M, n, n1, xb, w, y, L);
        return;
    }
    if (M <= SMALL_M) return row_groups<Fp8Small>(M, n0, n1, xb, w, y, L);
    // The call's rows of W converted once, in chunks of about 128 KB of bf16 (a task of the real model's wq_b is 768
    // rows x 1536), and x walked in blocks of MB rows: the chunk and an x block stay in L2 while every pair meets.
    const int K = w.in;
    const int chunk = std::max(4, std::min(256, (65536 / K) / 4 * 4));
    thread_local std::vector<uint16_t> scratch;
    uint16_t* wt = aligned_scratch(scratch, size_t(std::min(chunk, n1 - n0)) * size_t(K));
    constexpr int MB = 64;
    for (int c0 = n0; c0 < n1; c0 += chunk) {
        const int c1 = std::min(n1, c0 + chunk);
        convert_rows(w, c0, c1, L, wt);
        for (int m0 = 0; m0 < M; m0 += MB) {
            const int m1 = M - m0 < MB ? M : m0 + MB;
            int n = c0;
            for (; n + 4 <= c1; n += 4) fp8_gemm<4>(xb, w, y, m0, m1, n, wt + size_t(n - c0) * size_t(K));
            for (; n < c1; ++n) fp8_gemm<1>(xb, w, y, m0, m1, n, wt + size_t(n - c0) * size_t(K));
        }
    }
}

// ---- The transposed product on bf16 x over pair tiles (pair_tiles.h: the absorbed attention's W_UK^T q_nope) ----

namespace {

// One tile (64 columns from c0) against rows [m0, m0 + MG) of x (xb [M][R], natural order). Each row pair's 128 bytes
// convert to v[0..3], the pairs (W[2p][c], W[2p + 1][c]) of 16 columns each (v[q] lane k: column c0 + 16 (k / 4) +
// 4 q + k % 4, the VPUNPCK{L,H}BW order of the tile), and one VDPBF16PS adds x's pair (x[2p], x[2p + 1]; x[2p + 1] =
// 0 for an odd last row) times them. out (the same lane order) = blk * s.
template <int MG>
void t_tile(const uint8_t* tile, const uint8_t* end, int R, const uint16_t* xb, int m0, float s, float* out, int K, int c0,
            const Lut& L) {
    __m512 blk[MG][4];
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int q = 0; q < 4; ++q) blk[m][q] = _mm512_setzero_ps();
    for (int r = 0; r < R; r += 2) {
        const uint8_t* p = tile + size_t(r / 2) * 128;
        prefetch_stream(p, end);  // convert_avx512.h: the tiles are one stream
        prefetch_stream(p + 64, end);
        __m512bh v[4];
        fp8x64r(_mm512_load_si512(p), L, &v[0], &v[1]);
        fp8x64r(_mm512_load_si512(p + 64), L, &v[2], &v[3]);
        DSV32_UNROLL
        for (int m = 0; m < MG; ++m) {
            const uint16_t* xr = xb + size_t(m0 + m) * size_t(R) + size_t(r);
            const uint32_t pair = uint32_t(xr[0]) | (r + 1 < R ? uint32_t(xr[1]) << 16 : 0u);
            const __m512bh xv = (__m512bh)_mm512_set1_epi32(int(pair));
            DSV32_UNROLL
            for (int q = 0; q < 4; ++q) blk[m][q] = _mm512_dpbf16_ps(blk[m][q], v[q], xv);
        }
    }
    const __m512 sv = _mm512_set1_ps(s);
    DSV32_UNROLL
    for (int m = 0; m < MG; ++m)
        DSV32_UNROLL
        for (int q = 0; q < 4; ++q) _mm512_store_ps(out + size_t(m0 + m) * size_t(K) + size_t(c0 + 16 * q), _mm512_mul_ps(blk[m][q], sv));
}

}  // namespace

bool linear_t_tiles_bf16dot(const float* x, const Fp8PairTiles& t, int band, float* y, int M) {
    const int K = t.in, R = t.rows;
    if (M <= 0) return true;
    thread_local std::vector<uint16_t> xbuf;
    thread_local std::vector<float> obuf;
    uint16_t* xb = aligned_scratch(xbuf, size_t(M) * size_t(R));
    if (!pack_x_bf16(x, M, R, WType::BF16, xb)) return false;  // natural order; false: a value of x is not a bf16
    float* out = aligned_scratch(obuf, size_t(M) * size_t(K));
    const Lut L = make_lut();
    const uint8_t* end = t.data.get() + t.nbytes();
    for (int ti = 0; ti < t.tiles(); ++ti) {
        const uint8_t* tile = t.tile(band, ti);
        const float s = t.scale[size_t(band) * size_t(t.tiles()) + size_t(ti)];
        for (int m0 = 0; m0 < M; m0 += 4) switch (std::min(4, M - m0)) {
                case 4: t_tile<4>(tile, end, R, xb, m0, s, out, K, 64 * ti, L); break;
                case 3: t_tile<3>(tile, end, R, xb, m0, s, out, K, 64 * ti, L); break;
                case 2: t_tile<2>(tile, end, R, xb, m0, s, out, K, 64 * ti, L); break;
                default: t_tile<1>(tile, end, R, xb, m0, s, out, K, 64 * ti, L); break;
            }
    }
    // out's lanes to column order: within a tile, 128-bit block j of vector q holds columns 16 j + 4 q .. + 3, so
    // output vector j is blocks j of vectors 0..3 (a 4 x 4 transpose of 128-bit blocks).
    for (int m = 0; m < M; ++m)
        for (int c0 = 0; c0 < K; c0 += 64) {
            const float* a = out + size_t(m) * size_t(K) + size_t(c0);
            const __m512 v0 = _mm512_load_ps(a), v1 = _mm512_load_ps(a + 16), v2 = _mm512_load_ps(a + 32), v3 = _mm512_load_ps(a + 48);
            const __m512 t0 = _mm512_shuffle_f32x4(v0, v1, 0x44), t1 = _mm512_shuffle_f32x4(v0, v1, 0xEE);  // blocks 0, 1 / 2, 3
            const __m512 t2 = _mm512_shuffle_f32x4(v2, v3, 0x44), t3 = _mm512_shuffle_f32x4(v2, v3, 0xEE);
            float* o = y + size_t(m) * size_t(K) + size_t(c0);
            _mm512_storeu_ps(o, _mm512_shuffle_f32x4(t0, t2, 0x88));       // blocks 0 of v0..v3
            _mm512_storeu_ps(o + 16, _mm512_shuffle_f32x4(t0, t2, 0xDD));  // blocks 1
            _mm512_storeu_ps(o + 32, _mm512_shuffle_f32x4(t1, t3, 0x88));  // blocks 2
            _mm512_storeu_ps(o + 48, _mm512_shuffle_f32x4(t1, t3, 0xDD));  // blocks 3
        }
    return true;
}

// ---- The DSA indexer's scores on bf16 values (attention.h, index_scores with XValues::Bf16) ----

namespace {

// One query's scores over keys [t, t + 4): qB [hd / 2][nh] dwords (head h's bf16 pair (q[2p], q[2p + 1]) in lane
// h % 16 of vector h / 16), kb [4][hd / 2] the keys' pairs; NV head vectors per pass (at most 4), 4 * NV accumulators.
// Per pair of columns 4 key broadcasts and NV query loads feed 4 * NV dot products (two products each).
template <int NV>
inline void index_pass_bf16(const uint32_t* qB, int nh, const float* wv, int P, const uint32_t* const* kr, __m512* tot) {
    __m512 a[4][NV];
    DSV32_UNROLL
    for (int u = 0; u < 4; ++u)
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) a[u][v] = _mm512_setzero_ps();
    const uint32_t *k0 = kr[0], *k1 = kr[1], *k2 = kr[2], *k3 = kr[3];
    for (int p = 0; p < P; ++p) {
        const __m512bh b0 = (__m512bh)_mm512_set1_epi32(int(k0[p])), b1 = (__m512bh)_mm512_set1_epi32(int(k1[p]));
        const __m512bh b2 = (__m512bh)_mm512_set1_epi32(int(k2[p])), b3 = (__m512bh)_mm512_set1_epi32(int(k3[p]));
        const uint32_t* qp = qB + size_t(p) * size_t(nh);
        DSV32_UNROLL
        for (int v = 0; v < NV; ++v) {
            const __m512bh qv = (__m512bh)_mm512_load_si512(qp + 16 * v);
            a[0][v] = _mm512_dpbf16_ps(a[0][v], qv, b0);
            a[1][v] = _mm512_dpbf16_ps(a[1][v], qv, b1);
            a[2][v] = _mm512_dpbf16_ps(a[2][v], qv, b2);
            a[3][v] = _mm512_dpbf16_ps(a[3][v], qv, b3);
        }
    }
    index_head_sum<NV>(a, wv, tot);
}

// Whether the hd floats at p are all bf16 values (low 16 bits zero); hd % 16 == 0.
inline bool all_bf16(const float* p, int hd) {
    const __m512i low = _mm512_set1_epi32(0xFFFF);
    for (int c = 0; c < hd; c += 16)
        if (_mm512_test_epi32_mask(_mm512_loadu_si512(p + c), low)) return false;
    return true;
}

}  // namespace

namespace {

// K = float: keys of bf16 values stored as f32 (checked, then narrowed per block); K = uint16_t: packed bf16 keys,
// read in place as pairs.
template <typename K>
bool index_scores_bf16_impl(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                            int hd, const K* const* keys, int nkeys) {
    if (nh % 16 != 0 || hd % 32 != 0) return false;
    // The claim that q and the keys hold bf16 values, checked before anything is written.
    int nmax = 0;
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        if (n <= 0) continue;
        nmax = std::max(nmax, n);
        for (int h = 0; h < nh; ++h)
            if (!all_bf16(q[j] + size_t(h) * size_t(hd), hd)) return false;
    }
    if constexpr (std::is_same_v<K, float>)
        for (int t = 0; t < nmax; ++t) {  // the first read of the keys, from memory: 16 keys ahead requested
            if (t + 16 < nmax)
                for (int c = 0; c < hd * 4; c += 64) _mm_prefetch(reinterpret_cast<const char*>(keys[t + 16]) + c, _MM_HINT_T0);
            if (!all_bf16(keys[t], hd)) return false;
        }
    const int P = hd / 2, HV = nh / 16;
#if defined(DSV32_AMX_KERNELS)
    const bool amx = amx_enabled();
#endif
    float* qT = scratch_floats(size_t(hd) * size_t(nh) + size_t(P) * size_t(nh) + 4 * size_t(P) + size_t(nh));
    uint32_t* qB = reinterpret_cast<uint32_t*>(qT + size_t(hd) * size_t(nh));  // both multiples of 16 floats
    uint32_t* kb = qB + size_t(P) * size_t(nh);
    float* wv = reinterpret_cast<float*>(kb + 4 * size_t(P));
    for (int j = 0; j < nq; ++j) {
        const int n = std::min(lim[j], nkeys);
        if (n <= 0) continue;
        transpose_heads(q[j], nh, hd, qT, nh);  // qT [hd][nh]: heads along the lanes
        const __m512i hi = _mm512_set1_epi32(int(0xFFFF0000u));
        for (int p = 0; p < P; ++p)  // the pair (q[2p], q[2p + 1]) of each head: the bf16 bits, truncation exact
            for (int h = 0; h < nh; h += 16) {
                const __m512i e = _mm512_load_si512(qT + size_t(2 * p) * size_t(nh) + size_t(h));
                const __m512i o = _mm512_load_si512(qT + size_t(2 * p + 1) * size_t(nh) + size_t(h));
                _mm512_store_si512(qB + size_t(p) * size_t(nh) + size_t(h), _mm512_or_si512(_mm512_srli_epi32(e, 16), _mm512_and_si512(o, hi)));
            }
        std::copy_n(w[j], nh, wv);
        float* o = out[j];
#if defined(DSV32_AMX_KERNELS)
        if (amx) {
            index_query_amx(qB, nh, hd, wv, keys, n, o);
            continue;
        }
#endif
        for (int t = 0; t < n; t += 4) {
            const int nk = std::min(4, n - t);
            for (int u = t + 8; u < std::min(t + 12, n); ++u)  // the keys two blocks on
                for (size_t c = 0; c < size_t(hd) * sizeof(K); c += 64) _mm_prefetch(reinterpret_cast<const char*>(keys[u]) + c, _MM_HINT_T0);
            const uint32_t* kr[4];
            for (int u = 0; u < 4; ++u) {  // each key's bf16 stream (exact: the values are bf16)
                const K* k = keys[t + std::min(u, nk - 1)];
                if constexpr (std::is_same_v<K, float>) {
                    for (int c = 0; c < hd; c += 32)
                        _mm512_store_si512(kb + size_t(u) * size_t(P) + size_t(c / 2),
                                           (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(k + c + 16), _mm512_loadu_ps(k + c)));
                    kr[u] = kb + size_t(u) * size_t(P);
                } else {
                    kr[u] = reinterpret_cast<const uint32_t*>(k);  // pairs in place (uint16 rows, 4-byte aligned)
                }
            }
            __m512 tot[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int v0 = 0; v0 < HV; v0 += 4) {
                switch (std::min(4, HV - v0)) {
                    case 4: index_pass_bf16<4>(qB + 16 * v0, nh, wv + 16 * v0, P, kr, tot); break;
                    case 3: index_pass_bf16<3>(qB + 16 * v0, nh, wv + 16 * v0, P, kr, tot); break;
                    case 2: index_pass_bf16<2>(qB + 16 * v0, nh, wv + 16 * v0, P, kr, tot); break;
                    default: index_pass_bf16<1>(qB + 16 * v0, nh, wv + 16 * v0, P, kr, tot); break;
                }
            }
            for (int u = 0; u < nk; ++u) o[t + u] = _mm512_reduce_add_ps(tot[u]);
        }
    }
    return true;
}

}  // namespace

bool index_scores_bf16dot(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                          int hd, const float* const* keys, int nkeys) {
    return index_scores_bf16_impl(q, w, out, lim, nq, nh, hd, keys, nkeys);
}

bool index_scores_bf16dot(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                          int hd, const uint16_t* const* keys, int nkeys) {
    return index_scores_bf16_impl(q, w, out, lim, nq, nh, hd, keys, nkeys);
}

}  // namespace kernels
}  // namespace dsv32
