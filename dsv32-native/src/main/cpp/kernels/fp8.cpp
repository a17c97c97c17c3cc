// fp8.cpp: the FP8 numerics primitives (architecture.md §3): e4m3 rounding with saturation, act_quant with ue8m0
// scales, the scalar fp8_gemm reference with per-K-block promotion, and the engine's fp8-mode linear.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/linear_isa.h"

namespace dsv32 {
namespace kernels {

uint8_t f32_to_e4m3(float v) {
    const uint8_t sign = std::signbit(v) ? 0x80 : 0x00;
    if (std::isnan(v)) return uint8_t(sign | 0x7F);
    float a = std::fabs(v);
    if (a >= 448.0f) return uint8_t(sign | 0x7E);  // saturate (the demo clamps before the cast)
    if (a < std::ldexp(1.0f, -6)) {                // subnormal range: multiples of 2^-9
        const float q = std::nearbyint(std::ldexp(a, 9));  // default rounding mode: to nearest even
        return uint8_t(sign | uint8_t(q));               // q == 8 is the smallest normal 0x08
    }
    int e;
    std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1): unbiased exponent e - 1
    e -= 1;
    float q = std::nearbyint(std::ldexp(a, 3 - e));  // 8 .. 16
    if (q >= 16.0f) {
        q = 8.0f;
        ++e;
    }
    const int code = ((e + 7) << 3) | (int(q) - 8);
    return uint8_t(sign | (code > 0x7E ? 0x7E : code));
}

void round_bf16(float* x, size_t n) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return round_bf16_avx512(x, n);
    if (kernel_path() == KernelPath::Avx2) return round_bf16_avx2(x, n);
#endif
    for (size_t i = 0; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

void pack_bf16(const float* x, int n, uint16_t* out) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() == KernelPath::Avx512) return pack_bf16_avx512(x, n, out);
    if (kernel_path() == KernelPath::Avx2) return pack_bf16_avx2(x, n, out);
#endif
    for (int i = 0; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}

void unpack_bf16(const uint16_t* x, int n, float* out) {
#if defined(DSV32_X86_KERNELS)
    if (kernel_path() != KernelPath::Scalar) return unpack_bf16_avx2(x, n, out);
#endif
    for (int i = 0; i < n; ++i) {  // the bits in the high half (bf16_to_f32, written out so that the loop has no call)
        const uint32_t u = uint32_t(x[i]) << 16;
        std::memcpy(out + i, &u, 4);
    }
}

namespace {

float block_scale(const float* x, bool ue8m0) {
    float amax = 1e-4f;
    for (int i = 0; i < 128; ++i) amax = std::fabs(x[i]) > amax ? std::fabs(x[i]) : amax;
    float s = amax * (1.0f / 448.0f);
    if (ue8m0) {  // 2^ceil(log2 s), from the bits
        uint32_t u;
        std::memcpy(&u, &s, 4);
        int e = int((u >> 23) & 0xFF) - 127;
        if (u & 0x7FFFFFu) ++e;
        s = std::ldexp(1.0f, e);
    }
    return s;
}

uint8_t quant(float v, float s) {
    float q = v / s;
    q = q > 448.0f ? 448.0f : q < -448.0f ? -448.0f : q;
    return f32_to_e4m3(q);
}

}  // namespace

void act_quant(const float* x, int rows, int n, bool ue8m0, uint8_t* codes, float* scales) {
    const int nb = n / 128;
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < nb; ++b) {
            const float* xb = x + size_t(r) * n + size_t(b) * 128;
            const float s = block_scale(xb, ue8m0);
            scales[size_t(r) * nb + b] = s;
            for (int i = 0; i < 128; ++i) codes[size_t(r) * n + size_t(b) * 128 + i] = quant(xb[i], s);
        }
}

void act_quant_roundtrip(float* x, int rows, int n, bool ue8m0) {
#if defined(DSV32_X86_KERNELS)
    if (ue8m0 && kernel_path() == KernelPath::Avx512) return act_quant_roundtrip_avx512(x, rows, n);
    if (ue8m0 && kernel_path() == KernelPath::Avx2) return act_quant_roundtrip_avx2(x, rows, n);
#endif
    const float* tab = e4m3_table();
    for (int r = 0; r < rows; ++r)
        for (int b = 0; b < n / 128; ++b) {
            float* xb = x + size_t(r) * n + size_t(b) * 128;
            const float s = block_scale(xb, ue8m0);
            for (int i = 0; i < 128; ++i) xb[i] = tab[quant(xb[i], s)] * s;
        }
}

void fp8_gemm_ref(const uint8_t* a8, const float* a_s, const WeightMat& b, float* c, int M) {
    const int N = b.out, K = b.in, nb = K / 128;
    const float* tab = e4m3_table();
    const uint8_t* b8 = static_cast<const uint8_t*>(b.data);
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            float acc = 0;
            for (int kb = 0; kb < nb; ++kb) {
                float blk = 0;
                for (int k = kb * 128; k < kb * 128 + 128; ++k) blk += tab[a8[size_t(m) * K + k]] * tab[b8[size_t(n) * b.stride() + size_t(k)]];
                acc += blk * (a_s[size_t(m) * nb + kb] * b.scale[size_t(n / 128) * b.scale_cols + kb]);
            }
            c[size_t(m) * N + n] = bf16_to_f32(f32_to_bf16(acc));
        }
}

void linear_fp8(const float* x, const WeightMat& w, float* y, int M, int n_threads) {
#if defined(DSV32_X86_KERNELS)
    if (linear_fp8_bf16dot(x, w, y, M, n_threads)) return;
#endif
    thread_local std::vector<float> xq;
    xq.assign(x, x + size_t(M) * size_t(w.in));
    if (w.type == WType::FP8 && w.in % 128 == 0) act_quant_roundtrip(xq.data(), M, w.in, true);
    else round_bf16(xq.data(), xq.size());
    // x now holds bf16 values (e4m3 * 2^e, or bf16): the bf16 dot kernels compute its products exactly.
    linear(xq.data(), w, y, M, n_threads, XValues::Bf16);
    round_bf16(y, size_t(M) * size_t(w.out));
}

void linear_fp8_parts(const float* x, const LinearPart* parts, int n_parts, int M, int n_threads) {
#if defined(DSV32_X86_KERNELS)
    if (linear_fp8_bf16dot_parts(x, parts, n_parts, M, n_threads)) return;
#endif
    // One after the other, from a copy of x where a part's y overlaps it (a later part must still read x).
    const size_t MK = n_parts > 0 ? size_t(M) * size_t(parts[0].w->in) : 0;
    bool overlap = false;
    for (int i = 0; i < n_parts; ++i)
        overlap = overlap || !(parts[i].y + size_t(M) * size_t(parts[i].w->out) <= x || x + MK <= parts[i].y);
    thread_local std::vector<float> xc;
    if (overlap) {
        xc.assign(x, x + MK);
        x = xc.data();
    }
    for (int i = 0; i < n_parts; ++i) linear_fp8(x, *parts[i].w, parts[i].y, M, n_threads);
}

}  // namespace kernels
}  // namespace dsv32
