// bench_util.h: what the micro-benchmark entry points (src/main/jni/dsv32_bench.h) share: argument errors in
// dsv32_last_error(), the thread count, best-of-N timing, cached fixtures and random weights in the checkpoint formats.
#ifndef DSV32_BENCH_BENCH_UTIL_H
#define DSV32_BENCH_BENCH_UTIL_H

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "dsv32/dsv32.h"
#include "kernels/kernels.h"

namespace dsv32 {
void set_last_error(const std::string& msg);  // api.cpp

namespace bench {

inline int fail(const std::string& msg) {
    set_last_error(msg);
    return DSV32_ERR_INVALID_ARGUMENT;
}

// n_threads as the entry points take it: 0 = every core.
inline int threads_or_cores(int n_threads) {
    if (n_threads > 0) return n_threads;
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : int(n);
}

// Empty when lo <= v <= hi, else "<where><name> must be in [lo, hi], got v".
inline std::string range_error(const std::string& where, const char* name, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi) return {};
    return where + name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v);
}

// The shape limits of the linear benchmarks (dsv32_bench.h): empty when valid, else the first violation.
inline std::string linear_shape_error(const std::string& where, int m, int n, int k) {
    std::string e = range_error(where, "m", m, 1, 4096);
    if (e.empty()) e = range_error(where, "n", n, 1, 1 << 20);
    if (e.empty()) e = range_error(where, "k", k, 1, 65536);
    if (e.empty() && int64_t(n) * k > (int64_t(1) << 30))
        e = where + "n * k must be at most 2^30 elements, got " + std::to_string(n) + " x " + std::to_string(k);
    return e;
}

// Calls f once when warm_up (caches, thread pools, page faults), then iters times; the best wall seconds of one call.
template <class F>
double best_seconds(int iters, F&& f, bool warm_up = true) {
    using Clock = std::chrono::steady_clock;
    if (warm_up) f();
    double best = 1e300;
    for (int i = 0; i < iters; ++i) {
        const auto a = Clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - a).count());
    }
    return best;
}

// The synthetic data of the last call of one entry point, kept while the shape (key) stays the same: a harness that
// calls an entry point again and again (JMH) then times the kernel, not the generation of the data. One slot per call
// site (make's type); the previous fixture is freed before a new one is made. Returns the fixture and whether it was
// just made (not yet warm). Callers of one entry point must not overlap (the fixture holds the output buffers).
template <class T, class Make>
std::pair<std::shared_ptr<T>, bool> cached_fixture(const std::vector<int64_t>& key, Make make) {
    static std::mutex mu;
    static std::vector<int64_t> last;
    static std::shared_ptr<T> slot;
    std::lock_guard<std::mutex> lock(mu);
    if (slot && last == key) return {slot, false};
    slot.reset();
    slot = make();
    last = key;
    return {slot, true};
}

inline void fill_uniform(std::vector<float>& v, std::mt19937& rng, float amplitude) {
    std::uniform_real_distribution<float> u(-amplitude, amplitude);
    for (float& x : v) x = u(rng);
}

// A random FP8 [out, in] matrix with 128x128 block scales (codes and scales owned by the caller's vectors): no NaN
// codes, scale 1/256 everywhere, so the dequantised values lie in [-1.75, 1.75] (e4m3 max 448 / 256).
inline kernels::WeightMat random_fp8(int out, int in, std::mt19937& rng, std::vector<uint8_t>* codes,
                                     std::vector<float>* scales) {
    codes->resize(size_t(out) * size_t(in));
    uint32_t bits = 0;
    for (size_t i = 0; i < codes->size(); ++i) {  // four codes per draw (mini's MoE fixture: 50 M codes)
        if (i % 4 == 0) bits = uint32_t(rng());
        uint8_t v = uint8_t(bits >> (8 * (i % 4)));
        if ((v & 0x7F) == 0x7F) v &= 0xFE;  // 0x7F / 0xFF are NaN
        (*codes)[i] = v;
    }
    kernels::WeightMat w;
    w.type = kernels::WType::FP8;
    w.out = out;
    w.in = in;
    w.scale_cols = (in + 127) / 128;
    scales->assign(size_t((out + 127) / 128) * size_t(w.scale_cols), 1.0f / 256);
    w.data = codes->data();
    w.scale = scales->data();
    return w;
}

}  // namespace bench
}  // namespace dsv32

#endif
