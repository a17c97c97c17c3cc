// common.cuh: device helpers shared by the kernel families: bf16 / e4m3 conversions (bit-exact with kernels/),
// weight dequantisation, block reductions and scans. Written only against gpu/portability.h (CUDA and HIP).
#ifndef DSV32_GPU_KERNELS_COMMON_CUH
#define DSV32_GPU_KERNELS_COMMON_CUH

#include <cstdint>

#include "gpu/gpu_kernels.h"
#include "gpu/portability.h"

namespace dsv32::gpu::dev {

// ---- number formats (kernels/kernels.cpp, kernels/fp8.cpp) ----

__device__ __forceinline__ float bf16_to_f32(uint16_t bits) { return __uint_as_float(uint32_t(bits) << 16); }

// Round to nearest even; NaN stays NaN (quiet bit set), as kernels::f32_to_bf16.
__device__ __forceinline__ uint16_t f32_to_bf16(float v) {
    uint32_t u = __float_as_uint(v);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return uint16_t((u >> 16) | 0x40);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

__device__ __forceinline__ float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// float8_e4m3fn -> f32 (exact): bias 7, subnormals man * 2^-9, 0x7F / 0xFF NaN, no inf.
// Decoded (and encoded, below) with integer and IEEE f32 operations only, never a hardware FP8 conversion, so the
// checkpoint's OCP e4m3 codes mean the same on every target: sm_90a, gfx950 (OCP e4m3 in hardware too) and gfx942,
// whose hardware FP8 is e4m3 "fnuz" (bias 8, no -0) and would misread them. A future MFMA / WGMMA FP8 path must be
// guarded by target (__gfx950__ vs __gfx942__: convert the codes for fnuz).
__device__ __forceinline__ float e4m3_to_f32(uint8_t code) {
    const uint32_t sign = uint32_t(code >> 7) << 31;
    const uint32_t exp = (code >> 3) & 0xFu, man = code & 0x7u;
    if (exp == 0xFu && man == 0x7u) return __uint_as_float(sign | 0x7FC00000u);
    if (exp == 0) {
        const float v = float(man) * 0.001953125f;  // man * 2^-9, exact
        return sign ? -v : v;
    }
    return __uint_as_float(sign | ((exp - 7u + 127u) << 23) | (man << 20));
}

// f32 -> e4m3 (kernels::f32_to_e4m3, bit-exact): saturate at 448, round to nearest even, subnormals to 2^-9.
__device__ __forceinline__ uint8_t f32_to_e4m3(float v) {
    const uint8_t sign = (__float_as_uint(v) >> 31) ? 0x80 : 0x00;
    if (isnan(v)) return uint8_t(sign | 0x7F);
    const float a = fabsf(v);
    if (a >= 448.0f) return uint8_t(sign | 0x7E);
    if (a < 0.015625f) {                     // < 2^-6: multiples of 2^-9
        const float q = rintf(a * 512.0f);  // exact scaling, then round half to even
        return uint8_t(sign | uint8_t(q));
    }
    int e;
    frexpf(a, &e);  // a = f * 2^e, f in [0.5, 1)
    e -= 1;
    float q = rintf(ldexpf(a, 3 - e));  // 8 .. 16
    if (q >= 16.0f) {
        q = 8.0f;
        ++e;
    }
    const int code = ((e + 7) << 3) | (int(q) - 8);
    return uint8_t(sign | (code > 0x7E ? 0x7E : code));
}

// Dequantised W(r, c), exactly as kernels::dequant_row: F32 as is, BF16 exact, FP8 e4m3(code) * scale (one rounding).
__device__ __forceinline__ float load_weight(const GpuWeight& w, int r, int c) {
    const size_t at = size_t(r) * w.stride() + size_t(c);
    switch (w.type) {
        case GpuWType::F32: return static_cast<const float*>(w.data)[at];
        case GpuWType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w.data)[at]);
        default: {
            const float s = w.scale[size_t(r / 128) * size_t(w.scale_cols) + size_t(c / 128)];
            return f_mul_rn(e4m3_to_f32(static_cast<const uint8_t*>(w.data)[at]), s);
        }
    }
}

// ---- block-level reductions and scans (blockDim.x a multiple of the warp size, at most 1024) ----

constexpr int kMaxWarps = 1024 / 32;

struct SumOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
struct OrOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a | b; }
};

template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
    for (int o = DSV32_WARP_SIZE / 2; o > 0; o >>= 1) v = op(v, warp_shfl_xor(v, o));
    return v;
}

// Reduces v over the block; every thread gets the result. Deterministic: the warp partials are combined in warp
// order by every thread. smem: at least kMaxWarps elements of T, not used by the caller meanwhile.
template <typename T, typename Op>
__device__ T block_reduce(T v, Op op, T* smem) {
    const int lane = int(threadIdx.x) % DSV32_WARP_SIZE, warp = int(threadIdx.x) / DSV32_WARP_SIZE;
    const int nw = int(blockDim.x) / DSV32_WARP_SIZE;
    v = warp_reduce(v, op);
    __syncthreads();  // smem may still be read by a previous call
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    T r = smem[0];
    for (int i = 1; i < nw; ++i) r = op(r, smem[i]);
    return r;
}

// Exclusive prefix sum of v over the block in thread order; *total = the block sum. smem: kMaxWarps ints.
__device__ __forceinline__ int block_exclusive_scan(int v, int* total, int* smem) {
    const int lane = int(threadIdx.x) % DSV32_WARP_SIZE, warp = int(threadIdx.x) / DSV32_WARP_SIZE;
    const int nw = int(blockDim.x) / DSV32_WARP_SIZE;
    int x = v;
    for (int o = 1; o < DSV32_WARP_SIZE; o <<= 1) {
        const int y = warp_shfl_up(x, unsigned(o));
        if (lane >= o) x += y;
    }
    __syncthreads();
    if (lane == DSV32_WARP_SIZE - 1) smem[warp] = x;
    __syncthreads();
    int off = 0, tot = 0;
    for (int i = 0; i < nw; ++i) {
        if (i < warp) off += smem[i];
        tot += smem[i];
    }
    *total = tot;
    return off + x - v;
}

// Grid-stride loop bounds for elementwise kernels.
__device__ __forceinline__ size_t global_thread() { return size_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ size_t global_threads() { return size_t(gridDim.x) * blockDim.x; }

}  // namespace dsv32::gpu::dev

#endif
