// elementwise.cuh: softmax rows, SiLU / SwiGLU, scaled adds, bf16 rounding (kernels/kernels.cpp, model/moe.cpp).
// exp is taken in double and rounded to f32: a correctly rounded expf in all but double-rounding corner cases,
// which is what the C library's expf gives the CPU reference (CUDA's expf may be 2 ulp off).
#ifndef DSV32_GPU_KERNELS_ELEMENTWISE_CUH
#define DSV32_GPU_KERNELS_ELEMENTWISE_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

__device__ __forceinline__ float expf_rn(float z) { return float(exp(double(z))); }

// kernels::silu: z / (1 + exp(-z)).
__device__ __forceinline__ float silu(float z) { return f_div_rn(z, f_add_rn(1.0f, expf_rn(-z))); }

// grid (rows), block (256): kernels::softmax in place.
__global__ void softmax_kernel(float* x, int n) {
    __shared__ float redf[kMaxWarps];
    __shared__ double redd[kMaxWarps];
    float* xr = x + size_t(blockIdx.x) * size_t(n);
    float mx = -INFINITY;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) mx = xr[i] > mx ? xr[i] : mx;
    mx = block_reduce(mx, MaxOp{}, redf);
    if (mx == -INFINITY) {  // all masked: zeros
        for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) xr[i] = 0.0f;
        return;
    }
    double sum = 0;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) {
        const float e = expf_rn(f_sub_rn(xr[i], mx));
        xr[i] = e;
        sum += double(e);
    }
    sum = block_reduce(sum, SumOp{}, redd);
    const float inv = float(1.0 / sum);
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) xr[i] = f_mul_rn(xr[i], inv);
}

__global__ void silu_kernel(float* x, size_t n) {
    for (size_t i = global_thread(); i < n; i += global_threads()) x[i] = silu(x[i]);
}

__global__ void swiglu_kernel(const float* a, const float* b, float* y, size_t n, bool round) {
    for (size_t i = global_thread(); i < n; i += global_threads()) {
        float v = f_mul_rn(silu(a[i]), b[i]);
        y[i] = round ? round_bf16(v) : v;
    }
}

__global__ void add_scaled_kernel(float* y, const float* x, float alpha, size_t n) {
    for (size_t i = global_thread(); i < n; i += global_threads()) y[i] = f_add_rn(y[i], f_mul_rn(alpha, x[i]));
}

__global__ void scale_kernel(float* x, float alpha, size_t n) {
    for (size_t i = global_thread(); i < n; i += global_threads()) x[i] = f_mul_rn(x[i], alpha);
}

// y = bf16(x) (y may equal x).
__global__ void round_bf16_kernel(const float* x, float* y, size_t n) {
    for (size_t i = global_thread(); i < n; i += global_threads()) y[i] = round_bf16(x[i]);
}

}  // namespace dsv32::gpu::dev

#endif
