// blas_baseline.cpp: dlopen of a CBLAS library (blas_baseline.h).
#include "bench/blas_baseline.h"

#include <dlfcn.h>

#include <cstdlib>

namespace dsv32 {
namespace bench {

BlasLibrary open_blas(const std::vector<std::string>& names) {
    BlasLibrary lib;
    std::string tried;
    for (const std::string& name : names) {
        if (!tried.empty()) tried += "; ";
        dlerror();
        void* h = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char* why = dlerror();
            tried += name + ": " + (why ? why : "dlopen failed");
            continue;
        }
        auto sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cblas_sgemm"));
        auto sgemv = reinterpret_cast<SgemvFn>(dlsym(h, "cblas_sgemv"));
        if (!sgemm || !sgemv) {
            tried += name + ": loaded, but it exports no cblas_sgemm / cblas_sgemv";
            dlclose(h);
            continue;
        }
        lib.ok = true;
        lib.file = name;
        lib.sgemm = sgemm;
        lib.sgemv = sgemv;
        lib.sbgemm = reinterpret_cast<SbgemmFn>(dlsym(h, "cblas_sbgemm"));
        lib.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(h, "openblas_set_num_threads"));
        auto config = reinterpret_cast<GetConfigFn>(dlsym(h, "openblas_get_config"));
        const char* c = config ? config() : nullptr;
        lib.description = c ? std::string(c) + " (" + name + ")" : name;  // the config starts "OpenBLAS 0.3.21 ..."
        return lib;
    }
    lib.description = names.empty() ? "no BLAS library names to try" : "no usable CBLAS library (" + tried + ")";
    return lib;
}

std::vector<std::string> default_blas_names() {
    const char* env = std::getenv("DSV32_BLAS_LIB");
    if (env && *env) return {env};
    return {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"};
}

const BlasLibrary& blas() {
    static const BlasLibrary lib = open_blas(default_blas_names());
    return lib;
}

}  // namespace bench
}  // namespace dsv32
