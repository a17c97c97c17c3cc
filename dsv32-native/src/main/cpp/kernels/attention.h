// attention.h: the CPU attention kernels of one query (or a few) over cached rows: the DSA indexer's scores
// (architecture.md §7) and the absorbed MLA decode attention (§6.3). Each has a scalar reference here
// (attention.cpp) that test_kernels compares the AVX-512 path (attention_avx512.cpp; the fp8 numerics' bf16 dot-product
// kernels in attention_avx512bf16.cpp and linear_avx512bf16.cpp) and the AVX2 path (attention_avx2.cpp; the values'
// reference loop through axpy for the column ranges its kernel declines) against; the dispatchers follow kernel_path(). All
// single-threaded: the model splits the work.
//
// Summation orders are fixed per path and independent of how many queries or keys a call gets, so a query's result
// does not depend on how the engine batches or chunks (the batching contract of linear_isa.h).
#ifndef DSV32_KERNELS_ATTENTION_H
#define DSV32_KERNELS_ATTENTION_H

#include <cstdint>

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {

// Indexer scores (§7): for query j (0 <= j < nq) and key t (0 <= t < lim[j], lim[j] <= nkeys)
//   out[j][t] = sum_{h < nh} w[j][h] * ReLU(q[j][h] . k[t])
// q[j] is nh*hd floats (head h at h*hd), w[j] nh floats (the weights_proj output, already scaled), keys[t] points at
// hd floats. Entries t >= lim[j] of out[j] are not written. Order: fixed per path, whatever the batching of queries
// and keys (the scalar reference: each q.k over i = 0..hd-1 in sequence, the heads accumulated h = 0..nh-1 in
// sequence; AVX2: index_scores_avx2 below; AVX-512: its own).
// qk = XValues::Bf16: q and the keys hold bf16 values (the fp8 numerics: act_quant's e4m3 * 2^e); on a CPU with
// AVX512-BF16 (bf16_dot_enabled()) the q.k sums then run as VDPBF16PS dot products -- exact products, f32 sums two
// columns at a time, so not the f32 path's bits -- when nh % 16 == 0 and hd % 32 == 0. The claim is checked first: a
// value that is not a bf16 sends the call to the f32 kernels.
void index_scores(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh, int hd,
                  const float* const* keys, int nkeys, XValues qk = XValues::F32);
// index_scores over keys stored as packed bf16 (the fp8 numerics' indexer cache): keys[t] points at hd bf16 bit
// patterns. Bitwise index_scores(..., XValues::Bf16) on the keys' f32 values; half the bytes to read.
void index_scores_bf16_keys(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                            int hd, const uint16_t* const* keys, int nkeys);
void index_scores_scalar(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                         int hd, const float* const* keys, int nkeys);

// Absorbed MLA decode attention (§6.3) of heads [0, nh) of one query over nsel selected cache rows:
//   s[h][j] = (q_lat[h] . lat[j] + q_pe[h] . pe[j]) * scale,  p[h] = softmax(s[h]),  o_lat[h] = sum_j p[h][j] lat[j]
// q_lat [nh][kvr], q_pe [nh][dr], o_lat [nh][kvr]; lat[j] / pe[j] point at kvr / dr floats; scratch holds nh * nsel
// floats. nsel >= 1.
void mla_decode(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                const float* const* pe, int nsel, float scale, float* o_lat, float* scratch);
void mla_decode_scalar(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nsel, float scale, float* o_lat, float* scratch);

// The two halves of mla_decode, for dividing one query's attention over threads by keys and by columns; each element
// is computed exactly as mla_decode computes it, however the work is divided:
//   mla_scores: p[h * pstride + j] = s[h][j] for heads [0, nh), keys j in [0, nkeys) (lat / pe: those keys' rows);
//   mla_values: o_lat[h * kvr + c] = sum_j p[h * pstride + j] lat[j][c], j = 0..nkeys-1 in sequence, for columns
//   c in [c0, c1) (only those written). With 0 < split < nkeys, the keys in two halves: the sum over [0, split) plus
//   (one f32 add) the sum over [split, nkeys), each computed as this function computes it on those keys alone (the
//   engine's decode attention sums a selection that way, model/mla.cpp); every mla_values* below takes split too.
void mla_scores(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                const float* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                float* o_lat, int split = 0);
// The same over rows stored as packed bf16 (the fp8 numerics' cache, whose latents and k_pe are bf16 values:
// model/mla.cpp): lat[j] / pe[j] point at kvr / dr bf16 bit patterns. Bitwise what mla_scores / mla_values give on
// the rows' f32 values, on every path; half the bytes to read.
void mla_scores_bf16(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                     const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_bf16(const float* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split = 0);
// The fp8 numerics' decode attention (model/mla.cpp), every operand a bf16: the query (q_lat [nh][kvr], q_pe [nh][dr])
// and the probabilities (p [nh][pstride], entries 0..nkeys-1 of each row) packed bf16 too, as the demo rounds them
// (architecture.md §6.5; the softmax itself stays f32). Exact products, f32 sums: on a CPU with AVX512-BF16
// (bf16_dot_enabled()) as VDPBF16PS dot products, each score one chain over the column pairs, two keys a step in the
// values (attention_avx512bf16.cpp), so not the bits of the f32 kernels; elsewhere the f32 kernels on the widened values.
// Either way every element is computed the same whatever the split over keys, columns or heads.
void mla_scores_bf16q(const uint16_t* q_lat, const uint16_t* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                      const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_bf16p(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                      int c1, float* o_lat, int split = 0);
void mla_scores_scalar(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_scalar(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0,
                       int c1, float* o_lat, int split = 0);

// MLA prefill attention in the MHA form (§6.2) of one query row, heads [0, nh), over nsel keys:
//   s[h][j] = (q[h][0:dn] . kv[j][h*(dn+dv) : +dn] + q[h][dn:dn+dr] . pe[j]) * scale,  p[h] = softmax(s[h]),
//   o[h] = sum_j p[h][j] kv[j][h*(dn+dv)+dn : +dv]
// q [nh][dn + dr]; kv[j] points at key j's wkv_b output row (nh heads of k_nope then v); pe[j] at its k_pe [dr];
// o [nh][dv] (overwritten); scratch holds nsel floats. nsel >= 1.
void mha_row(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe, int nsel,
             float scale, float* o, float* scratch);
void mha_row_scalar(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                    int nsel, float scale, float* o, float* scratch);
// The causal prefill of up to 4 query rows of one head together (nq in 1..4): query g (q[g]: [dn + dr]) attends keys
// [0, n[g]) of kv / pe (each kv[j] points at key j's [k_nope | v] of that head, n[g] >= 1) and writes o[g] [dv].
// Each query's output is bitwise what mha_row(q[g], 1, dn, dr, dv, kv, pe, n[g], scale, o[g], ...) gives on the active
// path; the AVX-512 path reads each key once for all the queries. scratch holds nq * max(n) floats.
void mha_rows_prefix(const float* const* q, int nq, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                     const int* n, float scale, float* const* o, float* scratch);

// The transposed product over a band of rows of W: y[m][c] = sum_{r = r0}^{r1-1} x[m][r - r0] * W[r][c], for
// x [M][r1 - r0] and y [M][w.in] (overwritten), rows dequantised exactly as dequant_row does, accumulated r0..r1-1 in
// sequence. The absorbed attention's W_UK^T q_nope (§6.3). Single-threaded.
void linear_t_rows(const float* x, const WeightMat& w, int r0, int r1, float* y, int M);
void linear_t_rows_scalar(const float* x, const WeightMat& w, int r0, int r1, float* y, int M);

// Rows [n0, n1) of linear (y [M][w.out]: only those columns written) on the active path, single-threaded. With
// XValues::Bf16 (x holds bf16 values; checked as it is packed) the AVX512-BF16 kernels of linear take it where
// linear's dispatch would: the bits of linear(x, w, y, M, n, XValues::Bf16) on those columns.
void linear_rows(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, XValues xv = XValues::F32);

// The AVX2 path's reference composition of the values (attention.cpp): the scalar loop with its updates through axpy.
// The AVX2 kernel below gives its bits; it also serves the column ranges the kernel declines.
void mla_values_dot(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                    float* o_lat, int split);

#if defined(DSV32_X86_KERNELS)
// The AVX2 kernels (attention_avx2.cpp). The scores, over f32 rows or rows of packed bf16 (the same bits on their
// values), with the heads along the lanes: q . k one fused chain over the columns in order (MLA: the kvr latent columns,
// then the dr rope columns, then times scale); the indexer's heads added as fma(ReLU(s), w, tot) lane-wise in 8-lane
// vectors of consecutive heads, in order, then the 8 lanes summed as dot_avx2 sums them. Any shape. The values:
// bitwise mla_values_dot; false, writing nothing, for a column range not a multiple of 8.
void index_scores_avx2(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                       int hd, const float* const* keys, int nkeys);
void index_scores_avx2(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                       int hd, const uint16_t* const* keys, int nkeys);
void mla_scores_avx2(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                     const float* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_scores_avx2(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                     const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride);
bool mla_values_avx2(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                     float* o_lat, int split);
void softmax_avx2(float* x, int n);  // kernels::softmax (kernels.h): softmax_avx512's arithmetic in 8 lanes
void index_scores_avx512(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                         int hd, const float* const* keys, int nkeys);
// The AVX512-BF16 path of index_scores (linear_avx512bf16.cpp): false, writing nothing, when q or a key is not all bf16
// values or the shapes do not fit.
bool index_scores_bf16dot(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                          int hd, const float* const* keys, int nkeys);
bool index_scores_bf16dot(const float* const* q, const float* const* w, float* const* out, const int* lim, int nq, int nh,
                          int hd, const uint16_t* const* keys, int nkeys);  // keys packed bf16 (no check needed)
// Its AMX kernel (linear_amx.cpp), one query's n keys from its qB (pairs by heads, [hd / 2][nh] dwords) and weights w:
// index_scores_bf16dot takes it when amx_enabled() (nh % 16 == 0, hd % 32 == 0, the values checked as bf16 there).
void index_query_amx(const uint32_t* qB, int nh, int hd, const float* w, const float* const* keys, int n, float* out);
void index_query_amx(const uint32_t* qB, int nh, int hd, const float* w, const uint16_t* const* keys, int n, float* out);
// The AVX-512 f32 decode scores over rows of packed bf16 (and mla_scores_avx512 below over f32 rows;
// attention_avx512.cpp): mla_scores_avx2's order, so its bits.
void mla_scores_bf16_avx512(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                            const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_bf16_avx512(const float* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                            int c1, float* o_lat, int split);
// The AVX512-BF16 kernels of mla_scores_bf16q / mla_values_bf16p (attention_avx512bf16.cpp).
void mla_scores_bf16dot(const uint16_t* q_lat, const uint16_t* q_pe, int nh, int kvr, int dr, const uint16_t* const* lat,
                        const uint16_t* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_bf16dot(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0,
                        int c1, float* o_lat, int split = 0);
// The AMX kernel (linear_amx.cpp) of mla_scores_bf16dot for nh heads from their qB, group after group of 16 heads
// ((kvr + dr) / 2 dwords of pairs by 16 heads each: the kvr / 2 latent pairs then the dr / 2 rope pairs).
// mla_scores_bf16dot takes it when amx_enabled() and kvr, dr are multiples of 32.
void mla_scores_amx(const uint32_t* qB, int nh, int kvr, int dr, const uint16_t* const* lat, const uint16_t* const* pe,
                    int nkeys, float scale, float* p, size_t pstride);
// The AMX kernel of mla_values_bf16dot (linear_amx.cpp), which takes it when amx_enabled(): the same arguments.
void mla_values_amx(const uint16_t* p, size_t pstride, int nh, int kvr, const uint16_t* const* lat, int nkeys, int c0, int c1,
                    float* o_lat, int split);
void mla_scores_avx512(const float* q_lat, const float* q_pe, int nh, int kvr, int dr, const float* const* lat,
                       const float* const* pe, int nkeys, float scale, float* p, size_t pstride);
void mla_values_avx512(const float* p, size_t pstride, int nh, int kvr, const float* const* lat, int nkeys, int c0, int c1,
                       float* o_lat, int split);
void linear_t_rows_avx512(const float* x, const WeightMat& w, int r0, int r1, float* y, int M);
void hadamard128_avx512(float* x);  // kernels::hadamard128, bitwise
void softmax_avx512(float* x, int n);  // kernels::softmax (kernels.h)
void mha_row_avx512(const float* q, int nh, int dn, int dr, int dv, const float* const* kv, const float* const* pe,
                    int nsel, float scale, float* o, float* scratch);
void mha_rows_prefix_avx512(const float* const* q, int nq, int dn, int dr, int dv, const float* const* kv,
                            const float* const* pe, const int* n, float scale, float* const* o, float* scratch);
#endif

}  // namespace kernels
}  // namespace dsv32

#endif
