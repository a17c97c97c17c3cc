// gemv_fp8.cuh: the decode-shaped (M <= kGemvMaxRows) linear over an FP8 block-scaled weight, streaming W once with
// 16-byte loads (issue #8: the small-M path that reads weights at memory speed). One warp per output row n, a block
// of kGemvFp8Rows rows; x is staged in shared memory kGemvFp8Chunk columns at a time (so every warp reads it from
// there), stored by (column % 16, column / 16) with a padded row (kXsPitch), so that the lanes of a warp, which read
// the same byte of consecutive 16-byte pieces, hit distinct banks; each lane takes 16 consecutive codes per load
// (one 128-wide scale block: 16 divides 128), decodes them
// through a 256-entry table of e4m3 values and accumulates x * (e4m3(code) * scale) in f32 per row of x: the
// dequantised weight is exactly load_weight's (one rounding), only the summation order differs from the CPU's.
// Requires W's row stride and data pointer 16-byte aligned (the launcher checks and otherwise takes gemv_kernel);
// K needs no alignment (a scalar tail).
#ifndef DSV32_GPU_KERNELS_GEMV_FP8_CUH
#define DSV32_GPU_KERNELS_GEMV_FP8_CUH

#include "gpu/kernels/common.cuh"
#include "gpu/kernels/linear.cuh"

namespace dsv32::gpu::dev {

constexpr int kGemvFp8Rows = 8;      // output rows (warps) per block
constexpr int kGemvFp8Chunk = 1024;  // K columns of x per shared-memory stage (kGemvMaxRows x 1024 f32 = 32 KiB)
constexpr int kGemvFp8Pieces = kGemvFp8Chunk / 16 / DSV32_WARP_SIZE;  // 16-byte loads per lane per stage
static_assert(kGemvFp8Pieces >= 1, "a stage must give every lane at least one 16-byte piece");
constexpr int kXsPitch = kGemvFp8Chunk / 16 + 1;  // floats per (row of x, byte of a piece); +1: no bank conflicts

// Where column kk (0 <= kk < kGemvFp8Chunk) of a staged x row lies: piece kk / 16, byte kk % 16.
__device__ __forceinline__ int xs_at(int kk) { return (kk % 16) * kXsPitch + kk / 16; }

struct alignas(16) Codes16 {
    uint32_t w[4];
};

// grid (ceil(N / kGemvFp8Rows)), block (kGemvFp8Rows * warp size).
__global__ void __launch_bounds__(kGemvFp8Rows * DSV32_WARP_SIZE)
    gemv_fp8_kernel(const float* __restrict__ x, int ldx, GpuWeight w, float* __restrict__ y, int ldy, int M) {
    __shared__ float lut[256];
    __shared__ float xs[kGemvMaxRows][16 * kXsPitch];
    const int tid = int(threadIdx.x), nthreads = int(blockDim.x);
    const int lane = tid % DSV32_WARP_SIZE, warp = tid / DSV32_WARP_SIZE;
    for (int i = tid; i < 256; i += nthreads) lut[i] = e4m3_to_f32(uint8_t(i));
    const int n = int(blockIdx.x) * kGemvFp8Rows + warp;
    const bool active = n < w.out;  // no early return: the block meets at every barrier
    const int K = w.in;
    const uint8_t* wrow = static_cast<const uint8_t*>(w.data) + size_t(active ? n : 0) * w.stride();
    const float* srow = w.scale + size_t((active ? n : 0) / 128) * size_t(w.scale_cols);
    float acc[kGemvMaxRows];
#pragma unroll
    for (int m = 0; m < kGemvMaxRows; ++m) acc[m] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += kGemvFp8Chunk) {
        const int kc = K - k0 < kGemvFp8Chunk ? K - k0 : kGemvFp8Chunk;
        __syncthreads();  // the previous stage is consumed (and the table written, on the first)
        for (int e = tid; e < M * kc; e += nthreads) xs[e / kc][xs_at(e % kc)] = x[size_t(e / kc) * size_t(ldx) + size_t(k0 + e % kc)];
        __syncthreads();
        if (!active) continue;
        // Whole 16-byte pieces of this stage: issue every load first, then decode.
        const int whole = kc / 16;
        Codes16 v[kGemvFp8Pieces];
#pragma unroll
        for (int j = 0; j < kGemvFp8Pieces; ++j) {
            const int p = lane + j * DSV32_WARP_SIZE;
            if (p < whole) v[j] = *reinterpret_cast<const Codes16*>(wrow + k0 + p * 16);
        }
#pragma unroll
        for (int j = 0; j < kGemvFp8Pieces; ++j) {
            const int p = lane + j * DSV32_WARP_SIZE;
            if (p >= whole) break;
            const float s = srow[(k0 + p * 16) / 128];
#pragma unroll
            for (int b = 0; b < 16; ++b) {
                const float wv = f_mul_rn(lut[(v[j].w[b / 4] >> (8 * (b % 4))) & 0xFFu], s);
                const int at = b * kXsPitch + p;  // xs_at(p * 16 + b)
#pragma unroll
                for (int m = 0; m < kGemvMaxRows; ++m)
                    if (m < M) acc[m] += xs[m][at] * wv;
            }
        }
        // The columns after the last whole piece (K not a multiple of 16), one per lane.
        for (int kk = whole * 16 + lane; kk < kc; kk += DSV32_WARP_SIZE) {
            const float wv = f_mul_rn(lut[wrow[k0 + kk]], srow[(k0 + kk) / 128]);
#pragma unroll
            for (int m = 0; m < kGemvMaxRows; ++m)
                if (m < M) acc[m] += xs[m][xs_at(kk)] * wv;
        }
    }
    if (!active) return;  // after the last barrier
#pragma unroll
    for (int m = 0; m < kGemvMaxRows; ++m) {
        if (m >= M) break;
        const float r = warp_reduce(acc[m], SumOp{});
        if (lane == 0) y[size_t(m) * size_t(ldy) + size_t(n)] = r;
    }
}

}  // namespace dsv32::gpu::dev

#endif
