// linear_isa.h: the per-ISA row kernels behind kernels::linear (internal). Each computes rows [n0, n1) of
// y = x W^T for all M rows of x, single-threaded; scratch holds at least 4 * (in + 16) floats, 64-byte aligned.
// linear_avx2.cpp / linear_avx512.cpp are compiled with their own -m flags and must only be called after
// kernel_path_supported() said yes; they use intrinsics only (no inline library code, so no ODR mixing).
#ifndef DSV32_KERNELS_LINEAR_ISA_H
#define DSV32_KERNELS_LINEAR_ISA_H

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {

#if defined(DSV32_X86_KERNELS)
void linear_rows_avx2(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch);
void linear_rows_avx512(const float* x, const WeightMat& w, float* y, int M, int n0, int n1, float* scratch);
#endif

}  // namespace kernels
}  // namespace dsv32

#endif
