// linear_isa.h: the per-ISA row kernels behind kernels::linear (internal). Each computes rows [n0, n1) of
// y = x W^T for all M rows of x, single-threaded; scratch holds at least linear_scratch_floats(in) floats, 64-byte
// aligned. Contract (test_kernels checks it on every path): row m of y is bitwise the same for any M (the M == 1
// GEMV and the M > 1 batched kernels accumulate in the same order), so batching sequences never changes logits.
// linear_avx2.cpp / linear_avx512.cpp are compiled with their own -m flags and must only be called after
// kernel_path_supported() said yes; they use intrinsics only (no inline library code, so no ODR mixing).
#ifndef DSV32_KERNELS_LINEAR_ISA_H
#define DSV32_KERNELS_LINEAR_ISA_H

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {

// Scratch of one thread: 4 dequantised or converted rows of W (with 16 floats of padding each), or on AVX2 for FP8
// 4 converted 128-blocks plus the block totals of 32 rows of x for 4 rows of W (4 * 128 + 32 * 4 * 16 floats).
inline size_t linear_scratch_floats(int in) {
    const size_t dense = 4 * (size_t(in) + 16), fp8 = 4 * 128 + 32 * 4 * 16;
    return dense > fp8 ? dense : fp8;
}

#if defined(DSV32_X86_KERNELS)
void linear_rows_avx2(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch);
void linear_rows_avx512(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch);
// The AVX512-BF16 kernels (linear_avx512bf16.cpp) for an x of bf16 values. pack_x_bf16 writes x [M, K] as bf16 bits
// (out: M * K) in the column order of the kernel for weights of type wt (FP8, K % 64 == 0: permuted per 64 columns;
// BF16, any K: natural, which is also the bf16 pairs of the row-panel GEMV, panels.h), and returns false when some
// value is not a bf16 (its low 16 bits not zero). linear_rows_bf16dot computes rows [n0, n1) of y from that packing,
// for weights that bf16_dot_layout_ok (FP8 with K % 128 == 0, BF16 with K % 64 == 0).
bool bf16_dot_layout_ok(const WeightMat& w);
bool pack_x_bf16(const float* x, int M, int K, WType wt, uint16_t* out);
void linear_rows_bf16dot(const uint16_t* xb, const WeightMat& w, float* y, int M, int n0, int n1);
// The AMX kernel (linear_amx.cpp) of linear_rows_bf16dot for FP8 W on the same packing of x; linear_rows_bf16dot calls
// it when amx_enabled().
void linear_rows_amx(const uint16_t* xb, const WeightMat& w, float* y, int M, int n0, int n1);
// kernels::linear_fp8 on those kernels for FP8 W (K % 128 == 0): bitwise its other path (act_quant round trip, linear
// with XValues::Bf16, bf16 output). Returns false where it does not apply (no AVX512-BF16 path, the kernels switched
// off, a non-finite x, a thread out of memory for its copy of x); y is then to be computed another way (x is unchanged).
bool linear_fp8_bf16dot(const float* x, const WeightMat& w, float* y, int M, int n_threads);
// The same for several W of one in-width on the same x (kernels::linear_fp8_parts): x packed once, the parts' rows
// split together over the threads; false, with no y written, where it does not apply to every part.
bool linear_fp8_bf16dot_parts(const float* x, const LinearPart* parts, int n_parts, int M, int n_threads);
// fp8.cpp's act_quant round trip (ue8m0) and bf16 rounding on AVX-512 (fp8_avx512.cpp), bitwise as the scalar ones
// for finite x (with a NaN in a block the two may differ; no finite activation makes one).
void act_quant_roundtrip_avx512(float* x, int rows, int n);
// The round trip of x [rows, n] (n % 128 == 0) straight into pack_x_bf16's layout for FP8 weights (out: rows * n), in
// registers: bitwise act_quant_roundtrip_avx512 then pack_x_bf16, the same answer (false: a value is not a bf16).
bool act_quant_pack_x_fp8_avx512(const float* x, int rows, int n, uint16_t* out);
void round_bf16_avx512(float* x, size_t n);
// The same three on AVX2 (fp8_avx2.cpp), bitwise the scalar ones for finite x.
void act_quant_roundtrip_avx2(float* x, int rows, int n);
void round_bf16_avx2(float* x, size_t n);
void pack_bf16_avx2(const float* x, int n, uint16_t* out);
void pack_bf16_avx512(const float* x, int n, uint16_t* out);  // kernels::pack_bf16, bitwise
// kernels::linear_t_rows on AVX2 for FP8 W with in % 16 == 0 (false, nothing written, otherwise): fused
// multiply-adds in row order, as linear_t_rows_avx512.
bool linear_t_rows_avx2(const float* x, const WeightMat& w, int r0, int r1, float* y, int M);
// kernels::unpack_bf16 on AVX2 (also the AVX-512 path's: the widening is bound by its stores), bitwise.
void unpack_bf16_avx2(const uint16_t* x, int n, float* out);
// dot / axpy of kernels.h on each path (attention's inner loops).
float dot_avx2(const float* a, const float* b, int n);
float dot_avx512(const float* a, const float* b, int n);
void axpy_avx2(float a, const float* x, float* y, int n);
void axpy_avx512(float a, const float* x, float* y, int n);
#endif

}  // namespace kernels
}  // namespace dsv32

#endif
