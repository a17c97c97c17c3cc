// bench_device.cpp: bench_device.h.
#include "gpu/bench/bench_device.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "gpu/bench/bench_kernels.h"

namespace dsv32::gpu::bench {

size_t DevicePool::bytes() const {
    size_t n = 0;
    for (const DeviceBuffer& b : bufs_) n += b.bytes();
    return n;
}

GpuWeight TensorMaker::fp8(int out, int in) {
    GpuWeight w;
    w.type = GpuWType::FP8;
    w.out = out;
    w.in = in;
    w.scale_cols = (in + 127) / 128;
    const size_t n = size_t(out) * size_t(in), ns = size_t((out + 127) / 128) * size_t(w.scale_cols);
    uint8_t* codes = pool_.alloc<uint8_t>(n);
    fill_e4m3(codes, n, seed_++, stream());
    const float r = float(1.0 / std::sqrt(double(in)));
    w.data = codes;
    w.scale = f32(ns, 0.5f * r, r);
    return w;
}

GpuWeight TensorMaker::bf16(int out, int in) {
    GpuWeight w;
    w.type = GpuWType::BF16;
    w.out = out;
    w.in = in;
    const size_t n = size_t(out) * size_t(in);
    uint16_t* d = pool_.alloc<uint16_t>(n);
    const float r = float(1.0 / std::sqrt(double(in)));
    fill_bf16(d, n, seed_++, -r, r, stream());
    w.data = d;
    return w;
}

float* TensorMaker::f32(size_t n, float lo, float hi) {
    float* d = pool_.alloc<float>(n);
    fill_f32(d, n, seed_++, lo, hi, stream());
    return d;
}

double weight_bytes(const GpuWeight& w) {
    const double n = double(w.out) * double(w.in);
    switch (w.type) {
        case GpuWType::FP8: return n + 4.0 * double((w.out + 127) / 128) * double(w.scale_cols);
        case GpuWType::BF16: return 2.0 * n;
        default: return 4.0 * n;
    }
}

void require_finite(const float* d, size_t n, const Stream& s, const std::string& what) {
    const std::vector<float> v = to_host(d, n, s);
    size_t bad = 0, zero = 0;
    for (float x : v) {
        bad += std::isfinite(x) ? 0 : 1;
        zero += x == 0.0f ? 1 : 0;
    }
    if (bad) throw std::runtime_error(what + ": " + std::to_string(bad) + " of " + std::to_string(n) + " values are non-finite");
    if (n > 0 && zero == n) throw std::runtime_error(what + ": all " + std::to_string(n) + " values are zero (nothing computed?)");
}

double time_us(const std::function<void()>& step, int warmup, int iters, const Stream& s) {
    for (int i = 0; i < warmup; ++i) step();
    s.sync("bench warm-up");
    const int n = iters < 1 ? 1 : iters;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) step();
    s.sync("bench timed run");
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
}

}  // namespace dsv32::gpu::bench
