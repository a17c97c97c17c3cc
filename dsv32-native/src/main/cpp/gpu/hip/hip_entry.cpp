// hip_entry.cpp: the C entry points of libdsv32_hip.so, the HIP backend library (built with hipcc from the shared GPU
// sources: gpu/gpu_kernels.cu, gpu/engine_kernels.cu). The core library (libdsv32.so) never links ROCm: it opens this
// library at run time (model/hip_backend.cpp, dlopen) and asks it whether a HIP device can be used.
#include <hip/hip_runtime.h>

#include <cstddef>
#include <cstdio>
#include <string>

namespace {

void put(char* msg, size_t cap, const std::string& s) {
    if (msg && cap > 0) std::snprintf(msg, cap, "%s", s.c_str());
}

}  // namespace

extern "C" {

// The interface version the core expects (model/hip_backend.cpp checks it).
__attribute__((visibility("default"))) int dsv32_hip_abi_version() { return 1; }

// 0 when HIP device `ordinal` can be used; else 1 and a sentence in msg ("no HIP device (...)" or why the device
// cannot be used).
__attribute__((visibility("default"))) int dsv32_hip_device_status(int ordinal, char* msg, size_t cap) {
    int n = 0;
    const hipError_t e = hipGetDeviceCount(&n);
    if (e != hipSuccess) {
        (void)hipGetLastError();
        put(msg, cap, std::string("no HIP device (") + hipGetErrorName(e) + ": " + hipGetErrorString(e) + ")");
        return 1;
    }
    if (n <= 0) {
        put(msg, cap, "no HIP device (hipGetDeviceCount found 0 devices)");
        return 1;
    }
    if (ordinal < 0 || ordinal >= n) {
        put(msg, cap, "no HIP device " + std::to_string(ordinal) + " (this machine has " + std::to_string(n) + ")");
        return 1;
    }
    hipDeviceProp_t p{};
    if (hipGetDeviceProperties(&p, ordinal) != hipSuccess) {
        (void)hipGetLastError();
        put(msg, cap, "HIP device " + std::to_string(ordinal) + " cannot be queried");
        return 1;
    }
    put(msg, cap, std::string(p.name) + " (" + p.gcnArchName + ", warp " + std::to_string(p.warpSize) + ")");
    return 0;
}

}  // extern "C"
