// embedding.cuh: token rows of the (vocab-parallel) embedding table -> f32 activations (architecture.md §5 step 2).
#ifndef DSV32_GPU_KERNELS_EMBEDDING_CUH
#define DSV32_GPU_KERNELS_EMBEDDING_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

// grid (M), block (256): row m of y = table row tokens[m] - vocab0, or zeros when that row is not in this table.
__global__ void embedding_kernel(GpuWeight table, const int32_t* tokens, int vocab0, float* y) {
    const int m = int(blockIdx.x);
    const int D = table.in;
    const long long row = (long long)tokens[m] - vocab0;
    float* ym = y + size_t(m) * size_t(D);
    const bool here = row >= 0 && row < table.out;
    for (int c = int(threadIdx.x); c < D; c += int(blockDim.x)) ym[c] = here ? load_weight(table, int(row), c) : 0.0f;
}

}  // namespace dsv32::gpu::dev

#endif
