// bench_kernels.h: the device benchmark's own kernels (gpu/bench/): deterministic random fills of device memory
// (the benchmark's weights, activations and KV cache are random) and the copy kernel that measures device memory
// bandwidth. Conventions as gpu_kernels.h: device pointers, enqueued on `stream`, host-side checks throw
// std::invalid_argument naming the launcher.
#ifndef DSV32_GPU_BENCH_BENCH_KERNELS_H
#define DSV32_GPU_BENCH_BENCH_KERNELS_H

#include <cstddef>
#include <cstdint>

#include "gpu/portability.h"

namespace dsv32::gpu::bench {

// p[i] = uniform in [lo, hi) from a hash of (seed, i): the same values on every run and device.
void fill_f32(float* p, size_t n, uint64_t seed, float lo, float hi, gpuStream_t stream);
// p[i] = bf16 bits of a uniform value in [lo, hi).
void fill_bf16(uint16_t* p, size_t n, uint64_t seed, float lo, float hi, gpuStream_t stream);
// p[i] = a random finite e4m3 code of magnitude in [2^-3, 2^2] with a random sign (never the NaN codes 0x7F / 0xFF).
void fill_e4m3(uint8_t* p, size_t n, uint64_t seed, gpuStream_t stream);
// dst[0 .. bytes) = src[0 .. bytes) with 16-byte loads and stores (a grid-stride copy kernel). Both pointers
// 16-byte aligned, bytes a multiple of 16; src and dst must not overlap.
void copy16(void* dst, const void* src, size_t bytes, gpuStream_t stream);

}  // namespace dsv32::gpu::bench

#endif
