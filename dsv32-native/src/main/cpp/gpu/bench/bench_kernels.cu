// bench_kernels.cu: the launchers of bench_kernels.h (nvcc in the CUDA build; the host compiler under the CPU
// emulator, through src/test/cpp/gpu/emu_bench_kernels.cpp).
#include "gpu/bench/bench_kernels.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "gpu/bench/bench_kernels.cuh"

namespace dsv32::gpu::bench {

namespace {

constexpr unsigned kThreads = 256;

// A grid-stride grid: enough blocks to fill an H200 (132 SMs) several times over; the emulator runs blocks one
// after another, so there a few blocks do the same work with fewer fiber starts.
unsigned grid_for(size_t n) {
#if defined(DSV32_GPU_EMULATE)
    const size_t cap = 4;
#else
    const size_t cap = 132 * 16;
#endif
    return unsigned(std::max<size_t>(1, std::min<size_t>(cap, (n + kThreads - 1) / kThreads)));
}

void need(bool ok, const char* fn, const std::string& what) {
    if (!ok) throw std::invalid_argument(std::string(fn) + ": " + what);
}

void launched(const char* fn) {
    const gpuError_t e = gpuGetLastError();
    if (e != gpuSuccess) throw GpuError(std::string(fn) + ": kernel launch failed: " + gpuGetErrorString(e));
}

}  // namespace

void fill_f32(float* p, size_t n, uint64_t seed, float lo, float hi, gpuStream_t stream) {
    if (n == 0) return;
    need(p != nullptr, "bench::fill_f32", "p is null");
    need(lo <= hi, "bench::fill_f32", "lo > hi");
    DSV32_LAUNCH(dev::fill_f32_kernel, grid_for(n), kThreads, stream)(p, n, seed, lo, hi);
    launched("bench::fill_f32");
}

void fill_bf16(uint16_t* p, size_t n, uint64_t seed, float lo, float hi, gpuStream_t stream) {
    if (n == 0) return;
    need(p != nullptr, "bench::fill_bf16", "p is null");
    need(lo <= hi, "bench::fill_bf16", "lo > hi");
    DSV32_LAUNCH(dev::fill_bf16_kernel, grid_for(n), kThreads, stream)(p, n, seed, lo, hi);
    launched("bench::fill_bf16");
}

void fill_e4m3(uint8_t* p, size_t n, uint64_t seed, gpuStream_t stream) {
    if (n == 0) return;
    need(p != nullptr, "bench::fill_e4m3", "p is null");
    DSV32_LAUNCH(dev::fill_e4m3_kernel, grid_for(n), kThreads, stream)(p, n, seed);
    launched("bench::fill_e4m3");
}

void copy16(void* dst, const void* src, size_t bytes, gpuStream_t stream) {
    const char* fn = "bench::copy16";
    if (bytes == 0) return;
    need(dst != nullptr && src != nullptr, fn, "dst or src is null");
    need(bytes % 16 == 0, fn, "bytes " + std::to_string(bytes) + " is not a multiple of 16");
    need(reinterpret_cast<uintptr_t>(dst) % 16 == 0 && reinterpret_cast<uintptr_t>(src) % 16 == 0, fn,
         "dst and src must be 16-byte aligned");
    const char* d = static_cast<const char*>(dst);
    const char* s = static_cast<const char*>(src);
    need(d + bytes <= s || s + bytes <= d, fn, "dst and src overlap");
    const size_t n = bytes / 16;
    DSV32_LAUNCH(dev::copy16_kernel, grid_for(n), kThreads, stream)(static_cast<dev::Chunk16*>(dst), static_cast<const dev::Chunk16*>(src), n);
    launched(fn);
}

}  // namespace dsv32::gpu::bench
