// hadamard.cuh: in-place Hadamard-128 (Sylvester order, / sqrt(128)) per row, the butterfly of
// kernels::hadamard128 stage by stage, so every value sees the same roundings: bit-exact.
#ifndef DSV32_GPU_KERNELS_HADAMARD_CUH
#define DSV32_GPU_KERNELS_HADAMARD_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

constexpr int kHadamardRowsPerBlock = 4;

// block (64, kHadamardRowsPerBlock): thread x does butterfly p = x of each of the 7 stages for row y of the block.
__global__ void hadamard128_kernel(float* x, int rows) {
    __shared__ float buf[kHadamardRowsPerBlock][128];
    const int r = int(blockIdx.x) * kHadamardRowsPerBlock + int(threadIdx.y);
    const bool live = r < rows;
    float* row = x + size_t(live ? r : 0) * 128;
    const int p = int(threadIdx.x);
    float* v = buf[threadIdx.y];
    if (live) {
        v[p] = row[p];
        v[p + 64] = row[p + 64];
    }
    __syncthreads();
    for (int h = 1; h < 128; h <<= 1) {
        const int j = (p / h) * 2 * h + (p % h);
        if (live) {
            const float a = v[j], b = v[j + h];
            v[j] = f_add_rn(a, b);
            v[j + h] = f_sub_rn(a, b);
        }
        __syncthreads();
    }
    if (live) {
        const float s = f_div_rn(1.0f, f_sqrt_rn(128.0f));
        row[p] = f_mul_rn(v[p], s);
        row[p + 64] = f_mul_rn(v[p + 64], s);
    }
}

}  // namespace dsv32::gpu::dev

#endif
