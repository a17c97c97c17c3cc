// bench_kernels.cuh: the device code of bench_kernels.h, written against gpu/portability.h only (so that the CPU
// emulator runs it in the benchmark's emulated test).
#ifndef DSV32_GPU_BENCH_BENCH_KERNELS_CUH
#define DSV32_GPU_BENCH_BENCH_KERNELS_CUH

#include <cstdint>

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::bench::dev {

// SplitMix64 finaliser of seed + i: 64 well-mixed bits per element.
__device__ __forceinline__ uint64_t mix64(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [0, 1) from the top 24 bits (exact in f32).
__device__ __forceinline__ float unit_float(uint64_t bits) { return float(uint32_t(bits >> 40)) * (1.0f / 16777216.0f); }

__global__ void fill_f32_kernel(float* p, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = gpu::dev::global_thread(); i < n; i += gpu::dev::global_threads())
        p[i] = lo + (hi - lo) * unit_float(mix64(seed, i));
}

__global__ void fill_bf16_kernel(uint16_t* p, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = gpu::dev::global_thread(); i < n; i += gpu::dev::global_threads())
        p[i] = gpu::dev::f32_to_bf16(lo + (hi - lo) * unit_float(mix64(seed, i)));
}

// Exponent field 4 .. 9 (2^-3 .. 2^2 times 1 + m/8): never 15, so never NaN.
__global__ void fill_e4m3_kernel(uint8_t* p, size_t n, uint64_t seed) {
    for (size_t i = gpu::dev::global_thread(); i < n; i += gpu::dev::global_threads()) {
        const uint64_t r = mix64(seed, i);
        const uint32_t sign = uint32_t(r >> 63) << 7, exp = 4u + uint32_t((r >> 32) % 6u), man = uint32_t(r & 7u);
        p[i] = uint8_t(sign | (exp << 3) | man);
    }
}

struct alignas(16) Chunk16 {
    uint32_t a, b, c, d;
};

__global__ void copy16_kernel(Chunk16* __restrict__ dst, const Chunk16* __restrict__ src, size_t n) {
    for (size_t i = gpu::dev::global_thread(); i < n; i += gpu::dev::global_threads()) dst[i] = src[i];
}

}  // namespace dsv32::gpu::bench::dev

#endif
