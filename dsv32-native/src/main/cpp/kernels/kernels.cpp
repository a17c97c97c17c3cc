#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "kernels/linear_isa.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace dsv32 {
namespace kernels {

float e4m3_to_f32(uint8_t code) {
    const int sign = code >> 7;
    const int exp = (code >> 3) & 0xF;
    const int man = code & 0x7;
    float v;
    if (exp == 0xF && man == 0x7) return std::numeric_limits<float>::quiet_NaN();
    if (exp == 0) v = std::ldexp(float(man), -9);                 // subnormal: man/8 * 2^-6
    else v = std::ldexp(1.0f + float(man) / 8.0f, exp - 7);
    return sign ? -v : v;
}

namespace {
struct E4m3Table {
    float t[256];
    E4m3Table() {
        for (int i = 0; i < 256; ++i) t[i] = e4m3_to_f32(uint8_t(i));
    }
};
}  // namespace

const float* e4m3_table() {
    static const E4m3Table table;
    return table.t;
}

float bf16_to_f32(uint16_t bits) {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

uint16_t f32_to_bf16(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return uint16_t((u >> 16) | 0x40);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

float f16_to_f32(uint16_t h) {
    const int sign = h >> 15;
    const int exp = (h >> 10) & 0x1F;
    const int man = h & 0x3FF;
    float v;
    if (exp == 0) v = std::ldexp(float(man), -24);
    else if (exp == 31) v = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else v = std::ldexp(1.0f + float(man) / 1024.0f, exp - 15);
    return sign ? -v : v;
}

float dot_scalar(const float* a, const float* b, int n) {
    // 8 partial sums: vectorisable and a little more accurate than one running sum.
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
    float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; ++i) r += a[i] * b[i];
    return r;
}

void axpy_scalar(float a, const float* x, float* y, int n) {
    for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

float dot(const float* a, const float* b, int n) {
    switch (kernel_path()) {
#if defined(DSV32_X86_KERNELS)
        case KernelPath::Avx512: return dot_avx512(a, b, n);
        case KernelPath::Avx2: return dot_avx2(a, b, n);
#endif
        default: return dot_scalar(a, b, n);
    }
}

void axpy(float a, const float* x, float* y, int n) {
    switch (kernel_path()) {
#if defined(DSV32_X86_KERNELS)
        case KernelPath::Avx512: axpy_avx512(a, x, y, n); return;
        case KernelPath::Avx2: axpy_avx2(a, x, y, n); return;
#endif
        default: axpy_scalar(a, x, y, n);
    }
}

void matmul(const float* x, const float* w, float* y, int M, int N, int K, int n_threads) {
    (void)n_threads;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(n_threads > 0 ? n_threads : 1) if (int64_t(M) * N * K > 200000)
#endif
    for (int n = 0; n < N; ++n) {
        const float* wr = w + size_t(n) * K;
        for (int m = 0; m < M; ++m) y[size_t(m) * N + n] = dot(x + size_t(m) * K, wr, K);
    }
}

void rmsnorm(const float* x, const float* w, float* y, int rows, int n, float eps) {
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + size_t(r) * n;
        float* yr = y + size_t(r) * n;
        // The squares (exact in double) summed in eight interleaved partial sums, then pairwise: one chain of
        // dependent adds took about 1.2 us a 1024-wide row, on the calling thread alone. Any order in double is far
        // below the f32 the result is rounded to.
        auto sq = [&](int i) { return double(xr[i]) * xr[i]; };
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            a0 += sq(i), a1 += sq(i + 1), a2 += sq(i + 2), a3 += sq(i + 3);
            a4 += sq(i + 4), a5 += sq(i + 5), a6 += sq(i + 6), a7 += sq(i + 7);
        }
        for (; i < n; ++i) a0 += sq(i);
        const double ss = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
        const float inv = float(1.0 / std::sqrt(ss / n + eps));
        // Eight at a time, all read before any is written (y may be x): vector code without an aliasing check.
        for (i = 0; i + 8 <= n; i += 8) {
            float t[8];
            for (int j = 0; j < 8; ++j) t[j] = w[i + j] * (xr[i + j] * inv);
            for (int j = 0; j < 8; ++j) yr[i + j] = t[j];
        }
        for (; i < n; ++i) yr[i] = w[i] * (xr[i] * inv);
    }
}

void layernorm(const float* x, const float* w, const float* b, float* y, int rows, int n, float eps) {
    for (int r = 0; r < rows; ++r) {
        const float* xr = x + size_t(r) * n;
        float* yr = y + size_t(r) * n;
        double mean = 0;
        for (int i = 0; i < n; ++i) mean += xr[i];
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
        var /= n;
        const double inv = 1.0 / std::sqrt(var + eps);
        for (int i = 0; i < n; ++i) yr[i] = float((xr[i] - mean) * inv) * w[i] + b[i];
    }
}

void softmax(float* x, int n) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return softmax_avx512(x, n);
    if (kernel_path() == KernelPath::Avx2) return softmax_avx2(x, n);
#endif
    softmax_scalar(x, n);
}

void softmax_scalar(float* x, int n) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    if (mx == -std::numeric_limits<float>::infinity()) {  // all masked: define as zeros
        for (int i = 0; i < n; ++i) x[i] = 0;
        return;
    }
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = float(1.0 / sum);
    for (int i = 0; i < n; ++i) x[i] *= inv;
}

void hadamard128(float* x) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return hadamard128_avx512(x);
#endif
    for (int h = 1; h < 128; h <<= 1)
        for (int i = 0; i < 128; i += 2 * h)
            for (int j = i; j < i + h; ++j) {
                const float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
    const float s = 1.0f / std::sqrt(128.0f);
    for (int i = 0; i < 128; ++i) x[i] *= s;
}

float silu(float z) { return z / (1.0f + std::exp(-z)); }

}  // namespace kernels
}  // namespace dsv32
