// bench_blas.cpp: the BLAS baseline entry points of dsv32_bench.h: the same y = x W^T as dsv32_bench_linear, run by
// a CBLAS library opened at run time (blas_baseline.h) on f32 (or bf16) copies of the same FP8 block-scaled weights.
#include "../../jni/dsv32_bench.h"

#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/blas_baseline.h"

namespace {

using dsv32::bench::blas;
using dsv32::bench::BlasLibrary;

bool can_run(const BlasLibrary& lib, int32_t dtype) {
    if (!lib.ok) return false;
    if (dtype == DSV32_BENCH_F32) return true;
    if (dtype == DSV32_BENCH_BF16) return lib.sbgemm != nullptr;
    return false;  // no BLAS multiplies FP8
}

}  // namespace

extern "C" const char* dsv32_bench_blas_describe(void) { return blas().description.c_str(); }

extern "C" int dsv32_bench_blas_available(int32_t dtype) { return can_run(blas(), dtype) ? 1 : 0; }

extern "C" int dsv32_bench_blas_linear(int32_t dtype, int32_t m, int32_t n, int32_t k, int32_t n_threads, int32_t iters,
                                       double* seconds_per_call) {
    using namespace dsv32::bench;
    const std::string where = "dsv32_bench_blas_linear: ";
    if (!seconds_per_call) return fail(where + "seconds_per_call is NULL");
    if (dtype == DSV32_BENCH_FP8)
        return fail(where + "BLAS has no FP8 GEMM: benchmark DSV32_BENCH_F32 (the dequantised weights) or DSV32_BENCH_BF16");
    if (dtype != DSV32_BENCH_F32 && dtype != DSV32_BENCH_BF16) return fail(where + "unknown dtype " + std::to_string(dtype));
    const std::string shape = linear_shape_error(where, m, n, k);
    if (!shape.empty()) return fail(shape);
    if (n_threads < 0) return fail(where + "n_threads must be >= 0, got " + std::to_string(n_threads));
    if (iters < 1) return fail(where + "iters must be >= 1, got " + std::to_string(iters));
    const BlasLibrary& lib = blas();
    if (!can_run(lib, dtype)) {
        dsv32::set_last_error(where + "BLAS baseline not available: " +
                              (lib.ok ? lib.description + " has no cblas_sbgemm (bf16)" : lib.description));
        return DSV32_ERR_UNAVAILABLE;
    }
    // The weights: FP8 codes with block scales, dequantised to f32 (the values our kernel multiplies by).
    std::mt19937 rng(1234);
    std::vector<uint8_t> codes;
    std::vector<float> scales;
    const dsv32::kernels::WeightMat w8 = random_fp8(n, k, rng, &codes, &scales);
    std::vector<float> w(size_t(n) * size_t(k)), x(size_t(m) * size_t(k)), y(size_t(m) * size_t(n));
    for (int r = 0; r < n; ++r) dsv32::kernels::dequant_row(w8, r, 0, k, w.data() + size_t(r) * size_t(k));
    std::vector<uint8_t>().swap(codes);
    fill_uniform(x, rng, 1.0f);
    if (lib.set_threads) lib.set_threads(threads_or_cores(n_threads));
    if (dtype == DSV32_BENCH_F32) {
        // y[m, n] = x[m, k] W[n, k]^T: gemv for one row (y = W x), else gemm with W transposed.
        *seconds_per_call = best_seconds(iters, [&] {
            if (m == 1) lib.sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, n, k, 1.0f, w.data(), k, x.data(), 1, 0.0f, y.data(), 1);
            else lib.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, m, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n);
        });
    } else {
        std::vector<uint16_t> w16(w.size()), x16(x.size());
        for (size_t i = 0; i < w.size(); ++i) w16[i] = dsv32::kernels::f32_to_bf16(w[i]);
        for (size_t i = 0; i < x.size(); ++i) x16[i] = dsv32::kernels::f32_to_bf16(x[i]);
        std::vector<float>().swap(w);
        *seconds_per_call = best_seconds(iters, [&] {
            lib.sbgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, m, n, k, 1.0f, x16.data(), k, w16.data(), k, 0.0f, y.data(), n);
        });
    }
    volatile float keep = y[0];
    (void)keep;
    return DSV32_OK;
}
