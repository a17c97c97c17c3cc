// bench_blas.cpp: the BLAS baseline entry points of dsv32_bench.h: the same y = x W^T as dsv32_bench_linear, run by
// a CBLAS library opened at run time (blas_baseline.h) on f32 (or bf16) copies of the same FP8 block-scaled weights.
#include "../../jni/dsv32_bench.h"

#include <memory>
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
    if (dtype == DSV32_BENCH_FP8 || dtype == DSV32_BENCH_FP8_BF16X)
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
    // The weights: FP8 codes with block scales, dequantised to f32 (the values our kernel multiplies by); bf16 copies.
    struct Fixture {
        std::vector<float> w, x, y;
        std::vector<uint16_t> w16, x16;
    };
    auto [fx, fresh] = cached_fixture<Fixture>({dtype, m, n, k}, [&] {
        auto f = std::make_shared<Fixture>();
        std::mt19937 rng(1234);
        std::vector<uint8_t> codes;
        std::vector<float> scales;
        const dsv32::kernels::WeightMat w8 = random_fp8(n, k, rng, &codes, &scales);
        f->w.resize(size_t(n) * size_t(k));
        f->x.resize(size_t(m) * size_t(k));
        f->y.resize(size_t(m) * size_t(n));
        for (int r = 0; r < n; ++r) dsv32::kernels::dequant_row(w8, r, 0, k, f->w.data() + size_t(r) * size_t(k));
        fill_uniform(f->x, rng, 1.0f);
        if (dtype == DSV32_BENCH_BF16) {
            f->w16.resize(f->w.size());
            f->x16.resize(f->x.size());
            for (size_t i = 0; i < f->w.size(); ++i) f->w16[i] = dsv32::kernels::f32_to_bf16(f->w[i]);
            for (size_t i = 0; i < f->x.size(); ++i) f->x16[i] = dsv32::kernels::f32_to_bf16(f->x[i]);
            std::vector<float>().swap(f->w);
        }
        return f;
    });
    Fixture& d = *fx;
    if (lib.set_threads) lib.set_threads(threads_or_cores(n_threads));
    if (dtype == DSV32_BENCH_F32) {
        // y[m, n] = x[m, k] W[n, k]^T: gemv for one row (y = W x), else gemm with W transposed.
        *seconds_per_call = best_seconds(iters, [&] {
            if (m == 1) lib.sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, n, k, 1.0f, d.w.data(), k, d.x.data(), 1, 0.0f, d.y.data(), 1);
            else lib.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, m, n, k, 1.0f, d.x.data(), k, d.w.data(), k, 0.0f, d.y.data(), n);
        }, fresh);
    } else {
        *seconds_per_call = best_seconds(iters, [&] {
            lib.sbgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, m, n, k, 1.0f, d.x16.data(), k, d.w16.data(), k, 0.0f, d.y.data(), n);
        }, fresh);
    }
    volatile float keep = d.y[0];
    (void)keep;
    return DSV32_OK;
}
