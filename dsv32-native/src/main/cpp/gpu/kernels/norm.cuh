// norm.cuh: RMSNorm (optionally fused with the residual add) and LayerNorm, one block per row
// (kernels::rmsnorm / kernels::layernorm: the sums in double, the scale factor rounded to f32 as there).
#ifndef DSV32_GPU_KERNELS_NORM_CUH
#define DSV32_GPU_KERNELS_NORM_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

// grid (rows), block (256). With resid: resid += x (bf16-rounded when round), then normalise resid; else normalise x.
// Each thread touches the same columns in both passes, so y may alias x (and the resid update is its own).
__global__ void rmsnorm_kernel(const float* x, float* resid, const float* w, float* y, int n, float eps, bool round) {
    __shared__ double red[kMaxWarps];
    const size_t base = size_t(blockIdx.x) * size_t(n);
    double ss = 0;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) {
        float v;
        if (resid) {
            v = f_add_rn(resid[base + i], x[base + i]);
            if (round) v = round_bf16(v);
            resid[base + i] = v;
        } else {
            v = x[base + i];
        }
        ss += double(v) * double(v);
    }
    ss = block_reduce(ss, SumOp{}, red);
    const float inv = float(1.0 / sqrt(ss / n + double(eps)));
    const float* src = resid ? resid : x;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) {
        float v = f_mul_rn(w[i], f_mul_rn(src[base + i], inv));
        if (round) v = round_bf16(v);
        y[base + i] = v;
    }
}

// grid (rows), block (256): y = float((x - mean) * inv) * w + b, mean and biased variance in double.
__global__ void layernorm_kernel(const float* x, const float* w, const float* b, float* y, int n, float eps) {
    __shared__ double red[kMaxWarps];
    const size_t base = size_t(blockIdx.x) * size_t(n);
    double s = 0;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) s += double(x[base + i]);
    const double mean = block_reduce(s, SumOp{}, red) / n;
    double v = 0;
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) {
        const double d = double(x[base + i]) - mean;
        v = d_add_rn(v, d_mul_rn(d, d));
    }
    const double var = block_reduce(v, SumOp{}, red) / n;
    const double inv = 1.0 / sqrt(var + double(eps));
    for (int i = int(threadIdx.x); i < n; i += int(blockDim.x)) {
        const float t = float(d_mul_rn(double(x[base + i]) - mean, inv));
        y[base + i] = f_add_rn(f_mul_rn(t, w[i]), b[i]);
    }
}

}  // namespace dsv32::gpu::dev

#endif
