// kv_cache.cuh: paged KV cache addressing and the store / gather kernels (engine_kernels.h). Written against
// portability.h only (plain thread / block indices, no warp intrinsics).
#ifndef DSV32_GPU_KERNELS_KV_CACHE_CUH
#define DSV32_GPU_KERNELS_KV_CACHE_CUH

#include "gpu/engine_kernels.h"
#include "gpu/portability.h"

// Dynamic shared memory of the engine's kernels: `extern __shared__` on the device; under the CPU emulator
// (gpu/emulator.h, tests only) one static buffer, which the block's threads share as they would on the device.
#if defined(DSV32_GPU_EMULATE)
#define DSV32_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::dsv32::gpu::emu_dynamic_shared())
namespace dsv32::gpu {
inline void* emu_dynamic_shared() {
    alignas(16) static char buf[256 * 1024];
    return buf;
}
}  // namespace dsv32::gpu
#else
#define DSV32_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace dsv32::gpu {

// -inf as a float (portable: no CUDA-only constant).
__device__ __forceinline__ float neg_inf() { return __uint_as_float(0xff800000u); }

// The slot row of (entry seg, position t): model/kv_cache.h's View::latent / k_pe / idx_k on device addresses.
__device__ __forceinline__ float* cache_row(const CacheRef& c, int slot, int seg, int t) {
    float* base = reinterpret_cast<float*>(c.block_ptr[c.tab0[seg] + t / c.bs]) + c.layer_off;
    const int r = t % c.bs;
    if (slot == int(CacheSlot::Latent)) return base + size_t(r) * c.kvr;
    if (slot == int(CacheSlot::KPe)) return base + size_t(c.bs) * c.kvr + size_t(r) * c.dr;
    return base + size_t(c.bs) * (c.kvr + c.dr) + size_t(r) * c.ihd;
}

__device__ __forceinline__ int slot_width(const CacheRef& c, int slot) {
    return slot == int(CacheSlot::Latent) ? c.kvr : slot == int(CacheSlot::KPe) ? c.dr : c.ihd;
}

// One block per row.
__global__ void cache_store_kernel(const float* __restrict__ src, int ld, int slot, CacheRef c) {
    const int r = blockIdx.x;
    const int w = slot_width(c, slot);
    float* dst = cache_row(c, slot, c.row_seg[r], c.row_pos[r]);
    const float* s = src + size_t(r) * ld;
    for (int i = threadIdx.x; i < w; i += blockDim.x) dst[i] = s[i];
}

// One block per gathered row.
__global__ void cache_gather_kernel(int slot, CacheRef c, const int32_t* __restrict__ seg, const int32_t* __restrict__ pos,
                                    float* __restrict__ out) {
    const int i = blockIdx.x;
    const int w = slot_width(c, slot);
    const float* src = cache_row(c, slot, seg[i], pos[i]);
    float* d = out + size_t(i) * w;
    for (int k = threadIdx.x; k < w; k += blockDim.x) d[k] = src[k];
}

}  // namespace dsv32::gpu

#endif
