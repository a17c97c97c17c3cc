// device.cpp: the CUDA runtime wrappers (device.h).
#include "gpu/device.h"

#include "gpu/host_runtime.h"

#include <algorithm>
#include <cstdio>
#include <new>

namespace dsv32 {
namespace gpu {

void check(int status, const char* what) {
    const cudaError_t e = static_cast<cudaError_t>(status);
    if (e == cudaSuccess) return;
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();  // clear the sticky-free error so later calls work
        throw std::bad_alloc();
    }
    throw CudaError(std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

std::string device_unavailable_reason(int ordinal) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return std::string("backend cuda is not available: no CUDA device (") + cudaGetErrorName(e) + ": " +
               cudaGetErrorString(e) + ")";
    }
    if (n <= 0) return "backend cuda is not available: no CUDA device (cudaGetDeviceCount found 0 devices)";
    if (ordinal < 0 || ordinal >= n)
        return "backend cuda is not available: no CUDA device " + std::to_string(ordinal) + " (this machine has " +
               std::to_string(n) + ")";
    cudaDeviceProp p{};
    const cudaError_t pe = cudaGetDeviceProperties(&p, ordinal);
    if (pe != cudaSuccess) {
        (void)cudaGetLastError();
        return std::string("backend cuda is not available: device ") + std::to_string(ordinal) + " cannot be queried (" +
               cudaGetErrorString(pe) + ")";
    }
    // The build carries sm_90a code and compute_90 PTX: compute capability 9.0 and later only.
    if (p.major < 9)
        return std::string("backend cuda is not available: device ") + std::to_string(ordinal) + " (" + p.name +
               ") has compute capability " + std::to_string(p.major) + "." + std::to_string(p.minor) +
               "; this build targets sm_90a (Hopper) and later";
    return "";
}

std::string describe_device(int ordinal) {
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, ordinal), "cudaGetDeviceProperties");
    int drv = 0, rt = 0;
    (void)cudaDriverGetVersion(&drv);
    (void)cudaRuntimeGetVersion(&rt);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB, driver %d.%d, runtime %d.%d)", p.name, p.major, p.minor,
                  double(p.totalGlobalMem) / double(1ull << 30), drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
    return buf;
}

DeviceBuffer::DeviceBuffer(size_t bytes) { reserve(bytes); }

DeviceBuffer::~DeviceBuffer() {
    if (p_) (void)cudaFree(p_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (p_) (void)cudaFree(p_);
        p_ = o.p_;
        n_ = o.n_;
        o.p_ = nullptr;
        o.n_ = 0;
    }
    return *this;
}

void DeviceBuffer::reserve(size_t bytes) {
    if (bytes <= n_) return;
    if (n_ > 0) bytes = std::max(bytes, n_ + n_ / 2);  // grows geometrically: a step's buffers settle after a few steps
    if (p_) {
        check(cudaFree(p_), "cudaFree");
        p_ = nullptr;
        n_ = 0;
    }
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    p_ = p;
    n_ = bytes;
}

PinnedBuffer::PinnedBuffer(size_t bytes) {
    check(cudaMallocHost(&p_, bytes), "cudaMallocHost");
    n_ = bytes;
}

PinnedBuffer::~PinnedBuffer() {
    if (p_) (void)cudaFreeHost(p_);
}

Stream::Stream() {
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    s_ = s;
}

Stream::~Stream() {
    if (s_) (void)cudaStreamDestroy(static_cast<cudaStream_t>(s_));
}

void Stream::sync(const char* what) const {
    check(cudaStreamSynchronize(static_cast<cudaStream_t>(s_)), what);
    check(cudaGetLastError(), what);  // a failed kernel launch
}

void copy_to_device(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(s.handle())), "cudaMemcpyAsync (to device)");
}

void copy_to_host(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(s.handle())), "cudaMemcpyAsync (to host)");
}

void copy_on_device(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(s.handle())), "cudaMemcpyAsync (on device)");
}

}  // namespace gpu
}  // namespace dsv32
