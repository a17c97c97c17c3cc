// device.h: the GPU runtime as the engine uses it (host code, written against host_runtime.h's names: CUDA, HIP in
// libdsv32_hip.so, or the CPU emulator): errors as exceptions naming the call, the device probe behind backend
// selection, and RAII owners of device memory, pinned host memory and a stream.
#ifndef DSV32_GPU_DEVICE_H
#define DSV32_GPU_DEVICE_H

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dsv32 {
namespace gpu {

// A GPU runtime call failed: the message names the call and the runtime's error string.
struct DeviceError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws DeviceError("what: <runtime error name>: <string>") unless status == gpuSuccess (an int: gpuError_t).
// Out-of-memory (gpuErrorMemoryAllocation) throws std::bad_alloc instead, so the C API reports DSV32_ERR_CAPACITY.
void check(int status, const char* what);

// Empty when device `ordinal` can be used; else "backend cuda is not available: no CUDA device (<runtime error>)"
// or "... device N of M ..." (HIP: "backend hip is not available: no HIP device (...)"). Never throws; safe without
// a driver (the CUDA runtime is linked statically; the HIP library is only loaded where libamdhip64 is).
std::string device_unavailable_reason(int ordinal);

// "NVIDIA H200 (sm_90, 139.8 GiB, driver 13.0, runtime 13.0)" for the current device (HIP: "AMD Instinct MI355X
// (gfx950:sramecc+:xnack-, 288.0 GiB, warp 64, ...)").
std::string describe_device(int ordinal);

// Device memory of n bytes (gpuMalloc), freed on destruction. Moves, never copies.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    void* get() const { return p_; }
    template <class T>
    T* as() const { return static_cast<T*>(p_); }
    size_t bytes() const { return n_; }
    // Grows to at least `bytes` (contents not kept; at least 1.5x the old size); a no-op when already big enough.
    void reserve(size_t bytes);

private:
    void* p_ = nullptr;
    size_t n_ = 0;
};

// Pinned (page-locked) host memory for asynchronous copies.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    explicit PinnedBuffer(size_t bytes);
    ~PinnedBuffer();
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    void* get() const { return p_; }
    size_t bytes() const { return n_; }

private:
    void* p_ = nullptr;
    size_t n_ = 0;
};

// The engine's stream (non-blocking); every kernel and copy of a model goes through it, in order.
class Stream {
public:
    Stream();
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    void* handle() const { return s_; }  // gpuStream_t
    void sync(const char* what) const;

private:
    void* s_ = nullptr;
};

// Copies (on the stream, asynchronous with respect to the host unless stated).
void copy_to_device(void* dst, const void* src, size_t bytes, const Stream& s);    // src: pinned or pageable
void copy_to_host(void* dst, const void* src, size_t bytes, const Stream& s);      // then s.sync() before reading dst
void copy_on_device(void* dst, const void* src, size_t bytes, const Stream& s);
// Uploads a small host vector into a device buffer (grown as needed), synchronously with respect to `src`
// (pageable memory: the runtime stages it before returning).
template <class T>
void upload(DeviceBuffer& dst, const std::vector<T>& src, const Stream& s) {
    dst.reserve(src.size() * sizeof(T) + 1);
    if (!src.empty()) copy_to_device(dst.get(), src.data(), src.size() * sizeof(T), s);
}

}  // namespace gpu
}  // namespace dsv32

#endif
