// runtime_emulation.h: the GPU runtime subset the engine's host code and the kernels' launchers use (host_runtime.h's
// gpu* names), over host memory, for the CPU emulator (gpu/emulator.h, -DDSV32_GPU_EMULATE). A TEST TOOL, never
// part of a library that ships: one "device", synchronous copies, streams and events that are no-ops (the emulated
// kernels run at launch). The device presents itself as CUDA compute capability 9.0 (what the CUDA engine accepts),
// or with -DDSV32_EMU_HIP as a HIP device of arch "gfx90a-emulated" with DSV32_EMU_WARP_SIZE-lane wavefronts.
#ifndef DSV32_GPU_RUNTIME_EMULATION_H
#define DSV32_GPU_RUNTIME_EMULATION_H

#include <cstddef>
#include <cstdlib>
#include <cstring>

#if !defined(DSV32_EMU_WARP_SIZE)
#define DSV32_EMU_WARP_SIZE 32
#endif

enum gpuError_t { gpuSuccess = 0, gpuErrorMemoryAllocation = 2, gpuErrorInvalidDevice = 101 };
using gpuStream_t = void*;
using gpuEvent_t = void*;
enum gpuMemcpyKind { gpuMemcpyHostToDevice = 1, gpuMemcpyDeviceToHost = 2, gpuMemcpyDeviceToDevice = 3 };
constexpr unsigned gpuStreamNonBlocking = 1;
constexpr unsigned gpuEventDisableTiming = 2;

struct gpuDeviceProp {
    char name[256];
    int major, minor;
    size_t totalGlobalMem;
    int warpSize;
    char gcnArchName[256];
};

inline const char* gpuGetErrorName(gpuError_t e) {
    return e == gpuSuccess ? "gpuSuccess" : e == gpuErrorMemoryAllocation ? "gpuErrorMemoryAllocation" : "gpuErrorInvalidDevice";
}
inline const char* gpuGetErrorString(gpuError_t e) {
    return e == gpuSuccess ? "no error" : e == gpuErrorMemoryAllocation ? "out of memory (emulator)" : "invalid device ordinal (emulator)";
}
inline gpuError_t gpuGetLastError() { return gpuSuccess; }
inline gpuError_t gpuPeekAtLastError() { return gpuSuccess; }
inline gpuError_t gpuGetDeviceCount(int* n) {
    *n = 1;
    return gpuSuccess;
}
inline gpuError_t gpuGetDeviceProperties(gpuDeviceProp* p, int d) {
    if (d != 0) return gpuErrorInvalidDevice;
    std::memset(p, 0, sizeof *p);
    std::strcpy(p->name, "CPU emulator (gpu/emulator.h)");
    p->major = 9;
    p->minor = 0;
    p->totalGlobalMem = size_t(1) << 30;
    p->warpSize = DSV32_EMU_WARP_SIZE;
    std::strcpy(p->gcnArchName, "gfx90a-emulated");
    return gpuSuccess;
}
inline gpuError_t gpuDriverGetVersion(int* v) {
    *v = 0;
    return gpuSuccess;
}
inline gpuError_t gpuRuntimeGetVersion(int* v) {
    *v = 0;
    return gpuSuccess;
}
inline gpuError_t gpuSetDevice(int d) { return d == 0 ? gpuSuccess : gpuErrorInvalidDevice; }
inline gpuError_t gpuGetDevice(int* d) {
    *d = 0;
    return gpuSuccess;
}
inline gpuError_t gpuDeviceSynchronize() { return gpuSuccess; }
inline gpuError_t gpuMalloc(void** p, size_t n) {
    *p = std::malloc(n ? n : 1);
    return *p ? gpuSuccess : gpuErrorMemoryAllocation;
}
inline gpuError_t gpuFree(void* p) {
    std::free(p);
    return gpuSuccess;
}
inline gpuError_t gpuMallocHost(void** p, size_t n) { return gpuMalloc(p, n); }
inline gpuError_t gpuFreeHost(void* p) { return gpuFree(p); }
inline gpuError_t gpuStreamCreateWithFlags(gpuStream_t* s, unsigned) {
    static int token;
    *s = &token;
    return gpuSuccess;
}
inline gpuError_t gpuStreamCreate(gpuStream_t* s) { return gpuStreamCreateWithFlags(s, 0); }
inline gpuError_t gpuStreamDestroy(gpuStream_t) { return gpuSuccess; }
inline gpuError_t gpuStreamSynchronize(gpuStream_t) { return gpuSuccess; }
inline gpuError_t gpuMemcpy(void* d, const void* s, size_t n, gpuMemcpyKind) {
    std::memmove(d, s, n);
    return gpuSuccess;
}
inline gpuError_t gpuMemcpyAsync(void* d, const void* s, size_t n, gpuMemcpyKind k, gpuStream_t) { return gpuMemcpy(d, s, n, k); }
inline gpuError_t gpuMemcpy2DAsync(void* d, size_t dpitch, const void* s, size_t spitch, size_t width, size_t height,
                                   gpuMemcpyKind, gpuStream_t) {
    for (size_t r = 0; r < height; ++r)
        std::memmove(static_cast<char*>(d) + r * dpitch, static_cast<const char*>(s) + r * spitch, width);
    return gpuSuccess;
}
inline gpuError_t gpuMemset(void* d, int v, size_t n) {
    std::memset(d, v, n);
    return gpuSuccess;
}
inline gpuError_t gpuMemsetAsync(void* d, int v, size_t n, gpuStream_t) { return gpuMemset(d, v, n); }
inline gpuError_t gpuEventCreateWithFlags(gpuEvent_t* e, unsigned) {
    static int token;
    *e = &token;
    return gpuSuccess;
}
inline gpuError_t gpuEventRecord(gpuEvent_t, gpuStream_t) { return gpuSuccess; }
inline gpuError_t gpuEventSynchronize(gpuEvent_t) { return gpuSuccess; }
inline gpuError_t gpuEventDestroy(gpuEvent_t) { return gpuSuccess; }

#endif
