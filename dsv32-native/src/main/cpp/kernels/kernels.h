// kernels.h: scalar reference kernels (f32 numerics). Row-major; weights in PyTorch Linear layout [out, in].
#ifndef DSV32_KERNELS_KERNELS_H
#define DSV32_KERNELS_KERNELS_H

#include <cstddef>
#include <cstdint>

namespace dsv32 {
namespace kernels {

// float8_e4m3fn -> f32: 1 sign, 4 exponent bits (bias 7), 3 mantissa bits; no inf; 0x7F/0xFF are NaN.
float e4m3_to_f32(uint8_t code);
// The 256-entry table (built once).
const float* e4m3_table();
float bf16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float v);  // round to nearest even; NaN stays NaN
float f16_to_f32(uint16_t bits);

// y[m, n] = sum_k x[m, k] * w[n, k]  (x [M,K], w [N,K], y [M,N]); parallel over rows of w.
void matmul(const float* x, const float* w, float* y, int M, int N, int K, int n_threads);
float dot(const float* a, const float* b, int n);

// y = w * x / sqrt(mean(x^2) + eps), per row of n.
void rmsnorm(const float* x, const float* w, float* y, int rows, int n, float eps);
// y = (x - mean) / sqrt(var + eps) * w + b (biased variance), per row of n.
void layernorm(const float* x, const float* w, const float* b, float* y, int rows, int n, float eps);
// In place, numerically stable; -inf entries get probability 0.
void softmax(float* x, int n);
// In place y = H_128 x / sqrt(128) (Sylvester order), a 7-stage butterfly.
void hadamard128(float* x);
float silu(float z);

}  // namespace kernels
}  // namespace dsv32

#endif
