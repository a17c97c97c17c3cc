// attention.cuh: MLA attention over the indexer's selected keys (architecture.md §6.2, §6.3; model/mla.cpp).
// One block per (head, query row): the selected keys' scores in shared memory, softmax as kernels::softmax (max
// subtracted, sum in double, 1/sum in f32), then the weighted sum. Portable: shared memory reductions only.
#ifndef DSV32_GPU_KERNELS_ATTENTION_CUH
#define DSV32_GPU_KERNELS_ATTENTION_CUH

#include "gpu/kernels/common.cuh"
#include "gpu/kernels/kv_cache.cuh"

namespace dsv32::gpu {

constexpr int kAttnThreads = 128;

// float8_e4m3fn -> f32, exact (kernels::e4m3_to_f32): bias 7, subnormals m * 2^-9, 0x7F / 0xFF NaN.
__device__ __forceinline__ float attn_e4m3(uint8_t code) {
    const int s = code >> 7, e = (code >> 3) & 15, m = code & 7;
    float v;
    if (e == 15 && m == 7) v = __uint_as_float(0x7fc00000u);
    else if (e == 0) v = float(m) * 0.001953125f;  // 2^-9
    else v = __uint_as_float(uint32_t(((e + 120) << 23) | (m << 20)));  // (1 + m/8) * 2^(e-7)
    return s ? -v : v;
}

// Dequantised W(r, k) of a GpuWeight (one f32 rounding for FP8: code * scale).
__device__ __forceinline__ float attn_weight(const GpuWeight& w, int r, int k) {
    const size_t i = size_t(r) * w.stride() + size_t(k);
    switch (w.type) {
        case GpuWType::FP8:
            return attn_e4m3(static_cast<const uint8_t*>(w.data)[i]) * w.scale[(r / 128) * w.scale_cols + k / 128];
        case GpuWType::BF16:
            return __uint_as_float(uint32_t(static_cast<const uint16_t*>(w.data)[i]) << 16);
        default:
            return static_cast<const float*>(w.data)[i];
    }
}

// Block-wide reductions over kAttnThreads threads (red: kAttnThreads slots of shared memory).
__device__ __forceinline__ float block_max(float v, float* red) {
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = kAttnThreads / 2; s > 0; s >>= 1) {
        if (int(threadIdx.x) < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    const float r = red[0];
    __syncthreads();
    return r;
}

__device__ __forceinline__ double block_sum_d(double v, double* red) {
    red[threadIdx.x] = v;
    __syncthreads();
    for (int s = kAttnThreads / 2; s > 0; s >>= 1) {
        if (int(threadIdx.x) < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    const double r = red[0];
    __syncthreads();
    return r;
}

// p[0..n) = softmax(p) in place (kernels::softmax: an all -inf row gives zeros).
__device__ void block_softmax(float* p, int n, float* fred, double* dred) {
    float mx = neg_inf();
    for (int j = threadIdx.x; j < n; j += blockDim.x) mx = fmaxf(mx, p[j]);
    mx = block_max(mx, fred);
    if (mx == neg_inf()) {
        for (int j = threadIdx.x; j < n; j += blockDim.x) p[j] = 0.0f;
        __syncthreads();
        return;
    }
    double sum = 0;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        p[j] = expf(p[j] - mx);
        sum += p[j];
    }
    sum = block_sum_d(sum, dred);
    const float inv = float(1.0 / sum);
    for (int j = threadIdx.x; j < n; j += blockDim.x) p[j] *= inv;
    __syncthreads();
}

// grid (H, n_rows), kAttnThreads threads; dynamic shared memory: K floats (scores) + dq floats (q).
__global__ void mla_prefill_kernel(const float* __restrict__ q, const int32_t* __restrict__ rows, int H, int dn, int dr,
                                   int dv, const float* __restrict__ kvb, const int64_t* __restrict__ kvb_row0, CacheRef c,
                                   const int32_t* __restrict__ sel, const int32_t* __restrict__ count, int K, float scale,
                                   float* __restrict__ o) {
    DSV32_DYNAMIC_SHARED(float, sh);
    __shared__ float fred[kAttnThreads];
    __shared__ double dred[kAttnThreads];
    const int h = blockIdx.x, r = rows[blockIdx.y];
    const int dq = dn + dr, kvw = dn + dv;
    float* p = sh;
    float* qs = sh + K;
    for (int i = threadIdx.x; i < dq; i += blockDim.x) qs[i] = q[(size_t(r) * H + h) * dq + i];
    __syncthreads();
    const int seg = c.row_seg[r];
    const int n = count[r];
    const int32_t* keys = sel + size_t(r) * K;
    const float* kvbs = kvb + size_t(kvb_row0[seg]) * H * kvw;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const int t = keys[j];
        const float* kn = kvbs + (size_t(t) * H + h) * kvw;
        const float* kp = cache_row(c, int(CacheSlot::KPe), seg, t);
        float a = 0.0f, b = 0.0f;
        for (int i = 0; i < dn; ++i) a += qs[i] * kn[i];
        for (int i = 0; i < dr; ++i) b += qs[dn + i] * kp[i];
        p[j] = (a + b) * scale;
    }
    __syncthreads();
    block_softmax(p, n, fred, dred);
    for (int d = threadIdx.x; d < dv; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < n; ++j) acc += p[j] * kvbs[(size_t(keys[j]) * H + h) * kvw + dn + d];
        o[(size_t(r) * H + h) * dv + d] = acc;
    }
}

// grid (H, n_rows), kAttnThreads threads; dynamic shared memory: K + dq + 2 * kvr floats. bf16_ops (fp8 numerics,
// architecture.md §6.5; model/mla.cpp): q_lat, q_pe and the probabilities rounded to bf16, as the demo's einsums give
// them and as the CPU engine uses them; the sums and the softmax stay f32.
__global__ void mla_decode_kernel(const float* __restrict__ q, const int32_t* __restrict__ rows, int H, int dn, int dr,
                                  int dv, GpuWeight wkv_b, CacheRef c, const int32_t* __restrict__ sel,
                                  const int32_t* __restrict__ count, int K, float scale, bool bf16_ops,
                                  float* __restrict__ o) {
    DSV32_DYNAMIC_SHARED(float, sh);
    __shared__ float fred[kAttnThreads];
    __shared__ double dred[kAttnThreads];
    const int h = blockIdx.x, r = rows[blockIdx.y];
    const int dq = dn + dr, kvw = dn + dv, kvr = c.kvr;
    float* p = sh;
    float* qs = p + K;
    float* qlat = qs + dq;
    float* olat = qlat + kvr;
    for (int i = threadIdx.x; i < dq; i += blockDim.x) {
        const float v = q[(size_t(r) * H + h) * dq + i];
        qs[i] = bf16_ops && i >= dn ? dev::round_bf16(v) : v;
    }
    __syncthreads();
    // q_lat = W_UK^T q_nope (rows h*kvw .. +dn of wkv_b), in the CPU's order: d outer.
    for (int k = threadIdx.x; k < kvr; k += blockDim.x) {
        float acc = 0.0f;
        for (int d = 0; d < dn; ++d) acc += qs[d] * attn_weight(wkv_b, h * kvw + d, k);
        qlat[k] = bf16_ops ? dev::round_bf16(acc) : acc;
        olat[k] = 0.0f;
    }
    __syncthreads();
    const int seg = c.row_seg[r];
    const int n = count[r];
    const int32_t* keys = sel + size_t(r) * K;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        const int t = keys[j];
        const float* lat = cache_row(c, int(CacheSlot::Latent), seg, t);
        const float* kp = cache_row(c, int(CacheSlot::KPe), seg, t);
        float a = 0.0f, b = 0.0f;
        for (int i = 0; i < kvr; ++i) a += qlat[i] * lat[i];
        for (int i = 0; i < dr; ++i) b += qs[dn + i] * kp[i];
        p[j] = (a + b) * scale;
    }
    __syncthreads();
    block_softmax(p, n, fred, dred);
    if (bf16_ops) {
        for (int j = threadIdx.x; j < n; j += blockDim.x) p[j] = dev::round_bf16(p[j]);
        __syncthreads();
    }
    for (int k = threadIdx.x; k < kvr; k += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < n; ++j) acc += p[j] * cache_row(c, int(CacheSlot::Latent), seg, keys[j])[k];
        olat[k] = acc;
    }
    __syncthreads();
    // o = W_UV o_lat (rows h*kvw+dn .. +dv).
    for (int d = threadIdx.x; d < dv; d += blockDim.x) {
        float acc = 0.0f;
        for (int k = 0; k < kvr; ++k) acc += attn_weight(wkv_b, h * kvw + dn + d, k) * olat[k];
        o[(size_t(r) * H + h) * dv + d] = acc;
    }
}

}  // namespace dsv32::gpu

#endif
