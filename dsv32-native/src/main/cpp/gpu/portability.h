// portability.h: the one place where CUDA and HIP differ (runtime API names: host_runtime.h; warp width, warp
// intrinsics, rounding-exact float intrinsics) and the DSV32_GPU_CHECK error macro. Every kernel header (gpu/kernels/*.cuh) and
// launcher uses only the names defined here, so the same sources compile with nvcc (CUDA) and hipcc (HIP: libdsv32_hip.so).
//
// Host code that merely declares launchers (gpu/gpu_kernels.h) includes this header too; it only needs gpuStream_t,
// which is the runtime's stream handle type (a pointer), so including the runtime header is required there as well.
#ifndef DSV32_GPU_PORTABILITY_H
#define DSV32_GPU_PORTABILITY_H

#include <stdexcept>
#include <string>

#include "gpu/host_runtime.h"  // the runtime API names (gpuMalloc, gpuStream_t, ...) and DSV32_GPU_CUDA / DSV32_GPU_HIP
#if defined(DSV32_GPU_EMULATE)
// Test tool: the kernels on the CPU (gpu/emulator.h), for machines without a GPU.
#include "gpu/emulator.h"
#endif

// Marks a function callable from host and device code in headers shared with host-only translation units.
#if defined(__CUDACC__) || defined(__HIPCC__)
#define DSV32_HOST_DEVICE __host__ __device__
#else
#define DSV32_HOST_DEVICE
#endif

namespace dsv32::gpu {

// A failed runtime call: what was called, where, and the runtime's error string.
struct GpuError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline void gpu_check(gpuError_t e, const char* call, const char* file, int line) {
    if (e != gpuSuccess)
        throw GpuError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " + gpuGetErrorString(e));
}

}  // namespace dsv32::gpu

// DSV32_GPU_CHECK(gpuMalloc(&p, n)): throws dsv32::gpu::GpuError naming the call and the runtime's error string.
#define DSV32_GPU_CHECK(call) ::dsv32::gpu::gpu_check((call), #call, __FILE__, __LINE__)

// Kernel launch: DSV32_LAUNCH(kernel, grid, block, stream)(args...) (dynamic shared memory is not used).
#if defined(DSV32_GPU_EMULATE)
#define DSV32_LAUNCH(kernel, grid, block, stream) ((void)(stream), ::dsv32::gpu::emu::launch((kernel), dim3(grid), dim3(block)))
#else
#define DSV32_LAUNCH(kernel, grid, block, stream) kernel<<<(grid), (block), 0, (stream)>>>
#endif

// ---- device-side helpers (only in device compilation units) ----
#if defined(__CUDACC__) || defined(__HIPCC__) || defined(DSV32_GPU_EMULATE)

// FP8 on AMD: the kernels encode / decode e4m3 in software (kernels/fp8.cuh, the checkpoint's OCP e4m3), so no
// hardware FP8 format is involved. A future FP8 matrix-core path must be guarded by target: gfx950 (MI350) uses OCP
// e4m3 like the checkpoint, gfx942 (MI300) e4m3 "fnuz" (other bias, no -0 / inf; the codes need converting). LDS:
// 64 KiB per block on gfx90a / gfx942 (160 KiB on gfx950), so dynamic shared memory stays under 64 KiB there.
// Lanes per warp (NVIDIA 32; AMD CDNA wavefront 64; the emulator either, DSV32_EMU_WARP_SIZE). Kernels size their
// warp-level reductions with this; blocks must be a multiple of it (every launch uses 128, 256 or 512 threads, or
// kGemvWarps * DSV32_WARP_SIZE).
#if defined(__HIP_PLATFORM_AMD__) || (defined(DSV32_GPU_EMULATE) && DSV32_EMU_WARP_SIZE == 64)
#define DSV32_WARP_SIZE 64
using gpu_lane_mask_t = unsigned long long;
#define DSV32_FULL_MASK 0xFFFFFFFFFFFFFFFFull
#else
#define DSV32_WARP_SIZE 32
using gpu_lane_mask_t = unsigned int;
#define DSV32_FULL_MASK 0xFFFFFFFFu
#endif

namespace dsv32::gpu {

template <typename T>
__device__ __forceinline__ T warp_shfl_xor(T v, int lane_mask) {
#if defined(DSV32_GPU_EMULATE)
    const int l = emu::lane();
    return emu::exchange(v, emu::linear_id() - l + (l ^ lane_mask));
#elif defined(__HIP_PLATFORM_AMD__)
    return __shfl_xor(v, lane_mask);
#else
    return __shfl_xor_sync(DSV32_FULL_MASK, v, lane_mask);
#endif
}

template <typename T>
__device__ __forceinline__ T warp_shfl(T v, int src_lane) {
#if defined(DSV32_GPU_EMULATE)
    return emu::exchange(v, emu::linear_id() - emu::lane() + src_lane);
#elif defined(__HIP_PLATFORM_AMD__)
    return __shfl(v, src_lane);
#else
    return __shfl_sync(DSV32_FULL_MASK, v, src_lane);
#endif
}

template <typename T>
__device__ __forceinline__ T warp_shfl_up(T v, unsigned delta) {
#if defined(DSV32_GPU_EMULATE)
    const int l = emu::lane();
    return emu::exchange(v, l >= int(delta) ? emu::linear_id() - int(delta) : emu::linear_id());
#elif defined(__HIP_PLATFORM_AMD__)
    return __shfl_up(v, delta);
#else
    return __shfl_up_sync(DSV32_FULL_MASK, v, delta);
#endif
}

// Bit i set when lane i of the (whole, converged) warp has pred != 0.
__device__ __forceinline__ gpu_lane_mask_t warp_ballot(int pred) {
#if defined(DSV32_GPU_EMULATE)
    const int l = emu::lane(), base = emu::linear_id() - l;
    gpu_lane_mask_t m = 0;
    for (int i = 0; i < DSV32_WARP_SIZE; ++i) m |= gpu_lane_mask_t(emu::exchange(pred != 0, base + i) ? 1u : 0u) << i;
    return m;
#elif defined(__HIP_PLATFORM_AMD__)
    return __ballot(pred);
#else
    return __ballot_sync(DSV32_FULL_MASK, pred);
#endif
}

__device__ __forceinline__ int lane_popc(gpu_lane_mask_t m) {
#if defined(DSV32_GPU_EMULATE)
    return __builtin_popcountll(m);
#elif defined(__HIP_PLATFORM_AMD__)
    return __popcll(m);
#else
    return __popc(m);
#endif
}

// Lanes below this one (mask of lanes with a lower index).
__device__ __forceinline__ gpu_lane_mask_t lanes_below(int lane) {
#if DSV32_WARP_SIZE == 64
    return lane == 0 ? 0ull : (~0ull >> (64 - lane));
#else
    return lane == 0 ? 0u : (0xFFFFFFFFu >> (32 - lane));
#endif
}

// IEEE round-to-nearest float ops that the compiler may not contract into FMA nor replace by approximations
// (whatever -use_fast_math / -ffp-contract say): used where a kernel must reproduce the CPU's roundings exactly.
__device__ __forceinline__ float f_add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float f_mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float f_sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ float f_div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ __forceinline__ float f_sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ __forceinline__ double d_add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ double d_mul_rn(double a, double b) { return __dmul_rn(a, b); }

}  // namespace dsv32::gpu

#endif  // device compilation

#endif
