// blas_baseline.h: a CBLAS library (OpenBLAS) opened at run time with dlopen, the peer baseline of the kernel
// benchmarks. libdsv32 never links a BLAS: without one installed the baseline is "unavailable" (with the reason)
// and everything else works.
#ifndef DSV32_BENCH_BLAS_BASELINE_H
#define DSV32_BENCH_BLAS_BASELINE_H

#include <cstdint>
#include <string>
#include <vector>

namespace dsv32 {
namespace bench {

// CBLAS enum values (the reference cblas.h; OpenBLAS uses the same).
constexpr int CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112;

// The functions used, with 32-bit integers (the LP64 interface: libopenblas.so.0, not libopenblas64).
using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc);
using SgemvFn = void (*)(int order, int trans, int m, int n, float alpha, const float* a, int lda, const float* x,
                         int incx, float beta, float* y, int incy);
using SbgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const uint16_t* a,
                          int lda, const uint16_t* b, int ldb, float beta, float* c, int ldc);  // bf16 in, f32 out
using SetThreadsFn = void (*)(int n);
using GetConfigFn = char* (*)();

struct BlasLibrary {
    bool ok = false;
    std::string file;         // the name dlopen accepted
    std::string description;  // "OpenBLAS <config> (file)" or the file; when !ok, why not (every name tried)
    SgemmFn sgemm = nullptr;  // required (with sgemv) for ok
    SgemvFn sgemv = nullptr;
    SbgemmFn sbgemm = nullptr;          // optional: OpenBLAS built with BUILD_BFLOAT16 (Debian's 0.3.21 is not)
    SetThreadsFn set_threads = nullptr; // optional: openblas_set_num_threads
};

// Opens the first of `names` (dlopen names or paths) that loads and exports cblas_sgemm and cblas_sgemv. The handle
// is never closed (the library stays loaded for the process).
BlasLibrary open_blas(const std::vector<std::string>& names);

// The names tried by default: $DSV32_BLAS_LIB alone when set, else libopenblas.so.0, libopenblas.so, libcblas.so.3,
// libblas.so.3 (Debian: libopenblas0 / libblas3).
std::vector<std::string> default_blas_names();

// open_blas(default_blas_names()), once per process.
const BlasLibrary& blas();

}  // namespace bench
}  // namespace dsv32

#endif
