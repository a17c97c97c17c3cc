// bench_device.h: the device-side plumbing the benchmark rows share: a pool of device allocations that live as long
// as one row set, random FP8 / BF16 / f32 tensors (bench_kernels.h fills), the bytes a weight occupies, host <-> device
// copies of small tables and the timer.
#ifndef DSV32_GPU_BENCH_BENCH_DEVICE_H
#define DSV32_GPU_BENCH_BENCH_DEVICE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gpu/device.h"
#include "gpu/gpu_kernels.h"

namespace dsv32::gpu::bench {

// Device allocations freed together (when the pool goes away).
class DevicePool {
public:
    template <class T>
    T* alloc(size_t n) {
        bufs_.emplace_back(n * sizeof(T) + 16);
        return bufs_.back().as<T>();
    }
    size_t bytes() const;

private:
    std::vector<DeviceBuffer> bufs_;
};

// Fills draw their values from a seed; each tensor takes the next seed, so no two tensors are equal.
class TensorMaker {
public:
    TensorMaker(DevicePool& pool, const Stream& stream, uint64_t seed = 1) : pool_(pool), stream_(stream), seed_(seed) {}
    // An FP8 [out, in] weight: random codes (|v| in [2^-3, 2^2]) and block scales in [0.5, 1) / sqrt(in), so that
    // y = x W^T of x in [-1, 1] stays of order 1.
    GpuWeight fp8(int out, int in);
    // A BF16 [out, in] weight, uniform in +-1 / sqrt(in).
    GpuWeight bf16(int out, int in);
    // n f32 values uniform in [lo, hi).
    float* f32(size_t n, float lo, float hi);
    DevicePool& pool() { return pool_; }
    gpuStream_t stream() const { return static_cast<gpuStream_t>(stream_.handle()); }

private:
    DevicePool& pool_;
    const Stream& stream_;
    uint64_t seed_;
};

// Bytes of a weight in device memory: its data plus, for FP8, its block scales.
double weight_bytes(const GpuWeight& w);

// Copies a host vector to new pool memory (synchronously).
template <class T>
T* to_device(DevicePool& pool, const std::vector<T>& v, const Stream& s) {
    T* d = pool.alloc<T>(v.size());
    if (!v.empty()) copy_to_device(d, v.data(), v.size() * sizeof(T), s);
    s.sync("bench::to_device");
    return d;
}
// Copies n device values back to the host (synchronously).
template <class T>
std::vector<T> to_host(const T* d, size_t n, const Stream& s) {
    std::vector<T> v(n);
    if (n) copy_to_host(v.data(), d, n * sizeof(T), s);
    s.sync("bench::to_host");
    return v;
}

// Throws std::runtime_error("<what>: ...") unless the n device floats at d are all finite and not all zero (a check
// that a measured computation did real work on sane values: random weights scaled so that nothing overflows).
void require_finite(const float* d, size_t n, const Stream& s, const std::string& what);

// Mean wall time in microseconds of one call of `step` (which enqueues work on `s`): `warmup` untimed calls, then
// `iters` timed ones between two synchronisations of the stream (launch overheads count, as they do in the engine's
// step). Throws what the step or the runtime throws.
double time_us(const std::function<void()>& step, int warmup, int iters, const Stream& s);

}  // namespace dsv32::gpu::bench

#endif
