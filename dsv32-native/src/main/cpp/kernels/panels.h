// panels.h: a BF16 weight matrix repacked in row panels, for the decode GEMVs of a batch (kernels::linear_panels).
//
// Why: in W's own row-major layout a small-batch GEMV reads every x vector once per row of W, and at batch 4 the bf16
// head (129280 x 1024 on mini) spends more time on those loads than on streaming W. In a panel, 16 rows sit in the
// lanes of one vector, so one broadcast of x serves 16 rows (64 with the panel's four vectors) and the matrix is one
// sequential stream. On the 2-vCPU EPYC, 2 threads, the head alone at M = 4: f32 11.8 -> 5.6 ms, bf16 x 6.8-7.0 -> 5.0
// (the speed of M = 1); at M = 1 the same or faster.
//
// Layout (64-row panels, column pairs interleaved): dword data[((p * in / 2) + q) * 64 + v * 16 + r] holds row
// n = 64 p + 16 v + r, columns 2q (low half) and 2q + 1 (high half), as bf16 bits; rows past `out` are zero.
//
// The arithmetic of one output y[m][n] (the same for every M, tiling and thread count; linear_panels_scalar is the
// reference the SIMD kernels are tested against bitwise):
//   f32 x:  acc = 0; for k = 0 .. in-1: acc = fma(W[n][k], x[m][k], acc)   (one chain, in column order)
//   bf16 x (XValues::Bf16 on an AVX512-BF16 CPU): acc = 0; per pair q: acc = VDPBF16PS(acc, W pair, x pair), i.e.
//           acc += W[n][2q+1] * x[m][2q+1] (rounded), then acc += W[n][2q] * x[m][2q] (rounded); products exact,
//           bf16 denormal inputs and f32 denormal results flushed to zero (Intel SDM, VDPBF16PS).
// Both are sums of exact products in f32, like kernels::linear's; only the order of the sums differs from it.
#ifndef DSV32_KERNELS_PANELS_H
#define DSV32_KERNELS_PANELS_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "kernels/kernels.h"

namespace dsv32 {
namespace kernels {

constexpr int PANEL_ROWS = 64;

struct Bf16Panels {
    int out = 0, in = 0;
    struct Free {
        void operator()(uint32_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint32_t[], Free> data;  // 64-byte aligned; panels() * in / 2 * 64 dwords
    int panels() const { return (out + PANEL_ROWS - 1) / PANEL_ROWS; }
    bool empty() const { return !data; }
    size_t nbytes() const { return size_t(panels()) * size_t(in / 2) * PANEL_ROWS * 4; }
};

// Whether w can be repacked: BF16, an even number of columns.
bool panels_layout_ok(const WeightMat& w);
// w repacked (n_threads OpenMP threads). Throws std::invalid_argument unless panels_layout_ok(w), std::bad_alloc
// when the copy does not fit.
Bf16Panels pack_panels(const WeightMat& w, int n_threads);
// y[m, n] = sum_k x[m, k] * W[n, k] for x [M, in], y [M, out], parallel over panels (n_threads). xv == Bf16 takes the
// VDPBF16PS kernel when the CPU has it, bf16_dot_enabled() and every x value is a bf16 (else the f32 kernel). The
// AVX-512 kernels run when kernel_path() is Avx512, the AVX2 one (f32 x) when it is Avx2, else the scalar reference
// (correct, slow: callers keep their unpacked matrix for that path).
void linear_panels(const float* x, const Bf16Panels& w, float* y, int M, int n_threads, XValues xv = XValues::F32);
// The reference: panels [p0, p1) of y, single-threaded; bf16dot picks the VDPBF16PS arithmetic (x must hold bf16
// values).
void linear_panels_scalar(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1, bool bf16dot);

#if defined(DSV32_X86_KERNELS)
// The AVX2 kernel (internal; panels_avx2.cpp, f32 x): panels [p0, p1).
void linear_panels_avx2(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1);
// The AVX-512 kernels (internal): panels [p0, p1). panels_avx512.cpp (f32 x), panels_avx512bf16.cpp (x as bf16
// pairs: xp[m * in / 2 + q] = bf16(x[m][2q]) | bf16(x[m][2q+1]) << 16).
void linear_panels_avx512(const float* x, const Bf16Panels& w, float* y, int M, int p0, int p1);
void linear_panels_bf16dot(const uint32_t* xp, const Bf16Panels& w, float* y, int M, int p0, int p1);
// The AMX kernel (linear_amx.cpp) on the same pairs, for panels of in % 32 == 0: linear_panels takes it for bf16 x
// when amx_enabled() (its sums in the tiles' order, not VDPBF16PS's; the same for every M and thread count).
bool panels_amx_layout_ok(const Bf16Panels& w);
void linear_panels_amx(const uint32_t* xp, const Bf16Panels& w, float* y, int M, int p0, int p1);
#endif

}  // namespace kernels
}  // namespace dsv32

#endif
