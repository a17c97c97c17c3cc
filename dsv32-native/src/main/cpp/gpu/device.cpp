// device.cpp: the GPU runtime wrappers (device.h), CUDA or HIP (host_runtime.h names).
#include "gpu/device.h"

#include "gpu/host_runtime.h"

#include <algorithm>
#include <cstdio>
#include <new>

namespace dsv32 {
namespace gpu {

void check(int status, const char* what) {
    const gpuError_t e = static_cast<gpuError_t>(status);
    if (e == gpuSuccess) return;
    if (e == gpuErrorMemoryAllocation) {
        (void)gpuGetLastError();  // clear the sticky-free error so later calls work
        throw std::bad_alloc();
    }
    throw DeviceError(std::string(what) + ": " + gpuGetErrorName(e) + ": " + gpuGetErrorString(e));
}

std::string device_unavailable_reason(int ordinal) {
    const std::string not_available = std::string("backend ") + kGpuBackend + " is not available: ";
    const std::string no_device = not_available + "no " + kGpuPlatform + " device";
    int n = 0;
    const gpuError_t e = gpuGetDeviceCount(&n);
    if (e != gpuSuccess) {
        (void)gpuGetLastError();
        return no_device + " (" + gpuGetErrorName(e) + ": " + gpuGetErrorString(e) + ")";
    }
    if (n <= 0) return no_device + " (the runtime found 0 devices)";
    if (ordinal < 0 || ordinal >= n)
        return no_device + " " + std::to_string(ordinal) + " (this machine has " + std::to_string(n) + ")";
    gpuDeviceProp p{};
    const gpuError_t pe = gpuGetDeviceProperties(&p, ordinal);
    if (pe != gpuSuccess) {
        (void)gpuGetLastError();
        return not_available + "device " + std::to_string(ordinal) + " cannot be queried (" + gpuGetErrorString(pe) + ")";
    }
#if defined(DSV32_GPU_HIP)
    // The kernels are compiled for 64-lane wavefronts (CDNA: gfx90a, gfx942, gfx950); RDNA GPUs run 32-lane waves.
    if (p.warpSize != 64)
        return not_available + "device " + std::to_string(ordinal) + " (" + p.name + ", " + p.gcnArchName + ") runs " +
               std::to_string(p.warpSize) + "-lane wavefronts; libdsv32_hip.so is built for 64-lane CDNA GPUs (MI200 / MI300 / MI350)";
#else
    // The build carries sm_90a code and compute_90 PTX: compute capability 9.0 and later only.
    if (p.major < 9)
        return not_available + "device " + std::to_string(ordinal) + " (" + p.name + ") has compute capability " +
               std::to_string(p.major) + "." + std::to_string(p.minor) + "; this build targets sm_90a (Hopper) and later";
#endif
    return "";
}

std::string describe_device(int ordinal) {
    gpuDeviceProp p{};
    check(gpuGetDeviceProperties(&p, ordinal), "gpuGetDeviceProperties");
    int drv = 0, rt = 0;
    (void)gpuDriverGetVersion(&drv);
    (void)gpuRuntimeGetVersion(&rt);
    char buf[768];
#if defined(DSV32_GPU_HIP)
    // HIP versions are major * 10^7 + minor * 10^5 + patch.
    std::snprintf(buf, sizeof buf, "%s (%s, %.1f GiB, warp %d, driver %d, runtime %d.%d)", p.name, p.gcnArchName,
                  double(p.totalGlobalMem) / double(1ull << 30), p.warpSize, drv, rt / 10000000, (rt / 100000) % 100);
#else
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB, driver %d.%d, runtime %d.%d)", p.name, p.major, p.minor,
                  double(p.totalGlobalMem) / double(1ull << 30), drv / 1000, (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
#endif
    return buf;
}

DeviceBuffer::DeviceBuffer(size_t bytes) { reserve(bytes); }

DeviceBuffer::~DeviceBuffer() {
    if (p_) (void)gpuFree(p_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (p_) (void)gpuFree(p_);
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
        check(gpuFree(p_), "gpuFree");
        p_ = nullptr;
        n_ = 0;
    }
    void* p = nullptr;
    check(gpuMalloc(&p, bytes), "gpuMalloc");
    p_ = p;
    n_ = bytes;
}

PinnedBuffer::PinnedBuffer(size_t bytes) {
    check(gpuMallocHost(&p_, bytes), "gpuMallocHost");
    n_ = bytes;
}

PinnedBuffer::~PinnedBuffer() {
    if (p_) (void)gpuFreeHost(p_);
}

Stream::Stream() {
    gpuStream_t s = nullptr;
    check(gpuStreamCreateWithFlags(&s, gpuStreamNonBlocking), "gpuStreamCreateWithFlags");
    s_ = s;
}

Stream::~Stream() {
    if (s_) (void)gpuStreamDestroy(static_cast<gpuStream_t>(s_));
}

void Stream::sync(const char* what) const {
    check(gpuStreamSynchronize(static_cast<gpuStream_t>(s_)), what);
    check(gpuGetLastError(), what);  // a failed kernel launch
}

void copy_to_device(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(gpuMemcpyAsync(dst, src, bytes, gpuMemcpyHostToDevice, static_cast<gpuStream_t>(s.handle())), "gpuMemcpyAsync (to device)");
}

void copy_to_host(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(gpuMemcpyAsync(dst, src, bytes, gpuMemcpyDeviceToHost, static_cast<gpuStream_t>(s.handle())), "gpuMemcpyAsync (to host)");
}

void copy_on_device(void* dst, const void* src, size_t bytes, const Stream& s) {
    check(gpuMemcpyAsync(dst, src, bytes, gpuMemcpyDeviceToDevice, static_cast<gpuStream_t>(s.handle())), "gpuMemcpyAsync (on device)");
}

}  // namespace gpu
}  // namespace dsv32
