// hip_backend.cpp: backend=hip: find libdsv32_hip.so (next to libdsv32.so, else the loader's search path; the
// environment variable DSV32_HIP_LIBRARY names a file instead), dlopen it and ask it for a device.
#include "model/hip_backend.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace dsv32 {

namespace {

constexpr const char* kHipLibrary = "libdsv32_hip.so";

#if defined(DSV32_HIP_BUILT)
// The directory of the library (or executable) this code is linked into, with a trailing '/'; "" if unknown.
std::string own_directory() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&hip_unavailable_reason), &info) == 0 || !info.dli_fname) return "";
    const std::string path = info.dli_fname;
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

bool file_exists(const std::string& p) { return !p.empty() && access(p.c_str(), F_OK) == 0; }

struct HipLibrary {
    void* handle = nullptr;
    std::string error;  // why it could not be opened
};

// Opened once, kept for the process (never dlclosed: the HIP runtime does not support being unloaded).
const HipLibrary& hip_library() {
    static const HipLibrary lib = [] {
        HipLibrary l;
        std::string candidate;
        if (const char* env = std::getenv("DSV32_HIP_LIBRARY"); env && *env) {
            candidate = env;
        } else if (file_exists(own_directory() + kHipLibrary)) {
            candidate = own_directory() + kHipLibrary;
        } else {
            candidate = kHipLibrary;  // the loader's search path (LD_LIBRARY_PATH, runpath, ld.so.cache)
        }
        dlerror();
        l.handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!l.handle) {
            const char* err = dlerror();
            const std::string why = err ? err : "dlopen failed";
            if (candidate.find('/') == std::string::npos || !file_exists(candidate)) {
                l.error = std::string("backend hip is not available: ") + kHipLibrary + " not found (looked next to libdsv32 in '" +
                          own_directory() + "' and on the library path; set DSV32_HIP_LIBRARY; " + why + ")";
            } else {
                // The file is there but its dependencies are not: the ROCm runtime (libamdhip64) is not installed.
                l.error = "backend hip is not available: no HIP device (" + candidate +
                          " cannot be loaded, is the ROCm runtime libamdhip64 installed? " + why + ")";
            }
        }
        return l;
    }();
    return lib;
}
#endif

}  // namespace

std::string hip_unavailable_reason(int device) {
#if !defined(DSV32_HIP_BUILT)
    (void)device;
    return "backend hip is not available in this build (libdsv32 was built without hipcc; rebuild with hipcc on the "
           "PATH or -DDSV32_HIP=ON)";
#else
    const HipLibrary& lib = hip_library();
    if (!lib.handle) return lib.error;
    using AbiFn = int (*)();
    using StatusFn = int (*)(int, char*, size_t);
    auto abi = reinterpret_cast<AbiFn>(dlsym(lib.handle, "dsv32_hip_abi_version"));
    auto status = reinterpret_cast<StatusFn>(dlsym(lib.handle, "dsv32_hip_device_status"));
    if (!abi || !status || abi() != 1)
        return std::string("backend hip is not available: ") + kHipLibrary + " is not the HIP backend of this libdsv32 "
               "(missing entry points or another interface version)";
    char msg[512] = {0};
    if (status(device, msg, sizeof msg) != 0) return std::string("backend hip is not available: ") + msg;
    return "";
#endif
}

std::unique_ptr<Engine> open_hip_engine(const EngineOptions& o) {
    const std::string why = hip_unavailable_reason(o.device);
    if (!why.empty()) throw BackendUnavailable(why);
    throw BackendUnavailable(
        "backend hip is not available: a HIP device is present but the HIP engine (the forward pass) is not "
        "implemented yet; libdsv32_hip.so carries the shared GPU kernels only (issue #9)");
}

}  // namespace dsv32
