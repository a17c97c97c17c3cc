// fp8.cuh: act_quant (per-128-block amax, ue8m0 scales, saturating RNE e4m3) and its round trip, bit-exact with
// kernels/fp8.cpp (architecture.md §3): max is order-independent and every other step is one IEEE operation.
#ifndef DSV32_GPU_KERNELS_FP8_CUH
#define DSV32_GPU_KERNELS_FP8_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

// The scale of a block with amax (already max(.., 1e-4)): amax * f32(1/448), ue8m0: 2^ceil(log2 s) from the bits.
__device__ __forceinline__ float act_scale(float amax, bool ue8m0) {
    float s = f_mul_rn(amax, 1.0f / 448.0f);
    if (ue8m0) {
        const uint32_t u = __float_as_uint(s);
        int e = int((u >> 23) & 0xFF) - 127;
        if (u & 0x7FFFFFu) ++e;
        s = ldexpf(1.0f, e);
    }
    return s;
}

__device__ __forceinline__ uint8_t act_code(float v, float s) {
    float q = f_div_rn(v, s);
    q = q > 448.0f ? 448.0f : q < -448.0f ? -448.0f : q;
    return f32_to_e4m3(q);
}

// grid (rows * n / 128), block (128): one 128-block per block, one element per thread. codes == nullptr: round trip
// in place (x = e4m3(x / s) * s).
__global__ void act_quant_kernel(float* x, int n, bool ue8m0, uint8_t* codes, float* scales) {
    __shared__ float red[kMaxWarps];
    const size_t at = size_t(blockIdx.x) * 128 + threadIdx.x;  // rows are n = nb * 128 wide: blocks are contiguous
    const float v = x[at];
    float amax = block_reduce(isnan(v) ? 0.0f : fabsf(v), MaxOp{}, red);  // NaN never wins, as the CPU's compare
    amax = amax > 1e-4f ? amax : 1e-4f;
    const float s = act_scale(amax, ue8m0);
    const uint8_t q = act_code(v, s);
    if (codes) {
        codes[at] = q;
        if (threadIdx.x == 0) scales[blockIdx.x] = s;
    } else {
        x[at] = f_mul_rn(e4m3_to_f32(q), s);
    }
    (void)n;
}

__global__ void f32_to_e4m3_kernel(const float* x, uint8_t* codes, size_t n) {
    for (size_t i = global_thread(); i < n; i += global_threads()) codes[i] = f32_to_e4m3(x[i]);
}

}  // namespace dsv32::gpu::dev

#endif
