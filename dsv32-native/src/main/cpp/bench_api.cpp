// bench_api.cpp: the micro-benchmark entry points of src/main/jni/dsv32_bench.h (kernels and a peak FMA loop).
#include "../jni/dsv32_bench.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dsv32/dsv32.h"
#include "bench/bench_util.h"
#include "kernels/kernels.h"

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dsv32 {
void set_last_error(const std::string& msg);  // api.cpp
}

namespace {

using Clock = std::chrono::steady_clock;

int fail(const std::string& msg) {
    dsv32::set_last_error(msg);
    return DSV32_ERR_INVALID_ARGUMENT;
}

int cores() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : int(n);
}

// Flops of `iters` rounds of the FMA loops below on one thread: CHAINS chains x lanes x 2 flops x INNER per round.
constexpr int CHAINS = 12, INNER = 1000;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) float fma_avx512(long rounds) {
    __m512 acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) acc[c] = _mm512_set1_ps(float(c) * 1e-3f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long r = 0; r < rounds; ++r)
        for (int i = 0; i < INNER; ++i)
#pragma GCC unroll 16  // the chains must stay in registers (a rolled loop keeps them on the stack: store-forwarding bound)
            for (int c = 0; c < CHAINS; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    __m512 s = acc[0];
    for (int c = 1; c < CHAINS; ++c) s = _mm512_add_ps(s, acc[c]);
    float out[16];
    _mm512_storeu_ps(out, s);  // not _mm512_reduce_add_ps: its header trips -Wuninitialized in GCC 12
    float t = 0;
    for (float v : out) t += v;
    return t;
}

__attribute__((target("avx2,fma"))) float fma_avx2(long rounds) {
    __m256 acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) acc[c] = _mm256_set1_ps(float(c) * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long r = 0; r < rounds; ++r)
        for (int i = 0; i < INNER; ++i)
#pragma GCC unroll 16  // the chains must stay in registers (a rolled loop keeps them on the stack: store-forwarding bound)
            for (int c = 0; c < CHAINS; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    __m256 s = acc[0];
    for (int c = 1; c < CHAINS; ++c) s = _mm256_add_ps(s, acc[c]);
    float out[8];
    _mm256_storeu_ps(out, s);
    float t = 0;
    for (float v : out) t += v;
    return t;
}
#endif

float fma_scalar(long rounds) {
    float acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) acc[c] = float(c) * 1e-3f;
    for (long r = 0; r < rounds; ++r)
        for (int i = 0; i < INNER; ++i)
#pragma GCC unroll 16  // the chains must stay in registers (a rolled loop keeps them on the stack: store-forwarding bound)
            for (int c = 0; c < CHAINS; ++c) acc[c] = acc[c] * 0.999999f + 1e-7f;
    float t = 0;
    for (float v : acc) t += v;
    return t;
}

// One thread's loop at the widest ISA; lanes per FMA out.
float fma_loop(long rounds, int* lanes) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        *lanes = 16;
        return fma_avx512(rounds);
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *lanes = 8;
        return fma_avx2(rounds);
    }
#endif
    *lanes = 1;
    return fma_scalar(rounds);
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// `rounds` on t threads at once; returns the summed per-thread rate in flop/s, each thread timed by its own CPU time
// (a peak of the cores while they run: robust to other processes taking the cores), and the wall seconds in *wall.
double run_fma(int t, long rounds, double* wall) {
    std::vector<std::thread> th;
    std::vector<float> sink(size_t(t), 0.0f);
    std::vector<int> lanes(size_t(t), 1);
    std::vector<double> cpu(size_t(t), 0.0);
    const auto a = Clock::now();
    for (int i = 0; i < t; ++i)
        th.emplace_back([&, i] {
            const double c0 = thread_cpu_seconds();
            sink[size_t(i)] = fma_loop(rounds, &lanes[size_t(i)]);
            cpu[size_t(i)] = thread_cpu_seconds() - c0;
        });
    for (auto& x : th) x.join();
    *wall = std::chrono::duration<double>(Clock::now() - a).count();
    volatile float keep = 0;
    for (float v : sink) keep = keep + v;  // the results are used: the loops cannot be removed
    double rate = 0;
    for (int i = 0; i < t; ++i)
        rate += double(rounds) * INNER * CHAINS * lanes[size_t(i)] * 2.0 / std::max(cpu[size_t(i)], 1e-9);
    return rate;
}

}  // namespace

extern "C" int dsv32_bench_fma_peak(int32_t n_threads, double min_seconds, double* gflops) {
    if (!gflops) return fail("dsv32_bench_fma_peak: gflops is NULL");
    if (n_threads < 0) return fail("dsv32_bench_fma_peak: n_threads must be >= 0, got " + std::to_string(n_threads));
    if (!(min_seconds > 0 && min_seconds <= 10))
        return fail("dsv32_bench_fma_peak: min_seconds must be in (0, 10], got " + std::to_string(min_seconds));
    const int t = n_threads == 0 ? cores() : n_threads;
    double wall = 0;
    long rounds = 1;
    run_fma(t, rounds, &wall);
    while (wall < min_seconds / 4 && rounds < (1L << 40)) {  // calibrate
        rounds *= 2;
        run_fma(t, rounds, &wall);
    }
    double best = 0;
    for (int r = 0; r < 3; ++r) best = std::max(best, run_fma(t, rounds, &wall));
    *gflops = best / 1e9;
    return DSV32_OK;
}

extern "C" int dsv32_bench_linear(int32_t dtype, int32_t m, int32_t n, int32_t k, int32_t n_threads, int32_t iters,
                                  double* seconds_per_call) {
    const std::string where = "dsv32_bench_linear: ";
    if (!seconds_per_call) return fail(where + "seconds_per_call is NULL");
    if (dtype != DSV32_BENCH_F32 && dtype != DSV32_BENCH_FP8 && dtype != DSV32_BENCH_BF16 && dtype != DSV32_BENCH_FP8_BF16X)
        return fail(where + "unknown dtype " + std::to_string(dtype));
    const std::string shape = dsv32::bench::linear_shape_error(where, m, n, k);  // n up to 2^20: a vocab head fits
    if (!shape.empty()) return fail(shape);
    if (n_threads < 0) return fail(where + "n_threads must be >= 0, got " + std::to_string(n_threads));
    if (iters < 1) return fail(where + "iters must be >= 1, got " + std::to_string(iters));
    const int t = n_threads == 0 ? cores() : n_threads;
    struct Fixture {
        std::vector<float> x, y, wf, scale;
        std::vector<uint8_t> w8;
        std::vector<uint16_t> w16;
        dsv32::kernels::WeightMat w;
    };
    auto [fx, fresh] = dsv32::bench::cached_fixture<Fixture>({dtype, m, n, k}, [&] {
        auto f = std::make_shared<Fixture>();
        std::mt19937 rng(1234);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        f->x.resize(size_t(m) * k);
        f->y.resize(size_t(m) * n);
        for (float& v : f->x) v = u(rng);
        if (dtype == DSV32_BENCH_FP8_BF16X) dsv32::kernels::round_bf16(f->x.data(), f->x.size());
        dsv32::kernels::WeightMat& w = f->w;
        w.out = n;
        w.in = k;
        const size_t nw = size_t(n) * k;
        if (dtype == DSV32_BENCH_F32) {
            f->wf.resize(nw);
            for (float& v : f->wf) v = u(rng) * 0.05f;
            w.type = dsv32::kernels::WType::F32;
            w.data = f->wf.data();
        } else if (dtype == DSV32_BENCH_BF16) {
            f->w16.resize(nw);
            for (uint16_t& v : f->w16) v = dsv32::kernels::f32_to_bf16(u(rng) * 0.05f);
            w.type = dsv32::kernels::WType::BF16;
            w.data = f->w16.data();
        } else {
            w = dsv32::bench::random_fp8(n, k, rng, &f->w8, &f->scale);
        }
        return f;
    });
    Fixture& d = *fx;
    // The first call on new data warms up caches, threads and page faults.
    const dsv32::kernels::XValues xv = dtype == DSV32_BENCH_FP8_BF16X ? dsv32::kernels::XValues::Bf16 : dsv32::kernels::XValues::F32;
    const double best = dsv32::bench::best_seconds(iters, [&] { dsv32::kernels::linear(d.x.data(), d.w, d.y.data(), m, t, xv); }, fresh);
    volatile float keep = d.y[0];
    (void)keep;
    *seconds_per_call = best;
    return DSV32_OK;
}

extern "C" const char* dsv32_bench_kernel_path(void) {
    return dsv32::kernels::kernel_path_name(dsv32::kernels::kernel_path());
}

extern "C" const char* dsv32_bench_cpu_kernels(void) {
    namespace k = dsv32::kernels;
    const bool wide = k::kernel_path() == k::KernelPath::Avx512, dot = wide && k::bf16_dot_enabled();
    if (dot && k::amx_enabled()) return "avx512 + AMX (bf16 products)";
    if (dot) return "avx512 + AVX512-BF16 (bf16 products)";
    return k::kernel_path_name(k::kernel_path());
}
