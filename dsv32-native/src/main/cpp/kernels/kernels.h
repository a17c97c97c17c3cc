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

// A weight matrix [out, in] as it lies in the checkpoint (zero-copy view into the mmap'd file, or owned f32):
//   F32:  float[out*in];  BF16: uint16 bf16 bits [out*in] (little-endian, any alignment);
//   FP8:  e4m3 bytes [out*in] with f32 block scales scale[(r/128)*scale_cols + c/128] (weight_scale_inv).
// Element (r, c) lies at data[r * stride() + c]: ld > in makes the matrix a view of columns of a wider one (a
// row-parallel model-parallel shard, architecture.md §2.2); scale_cols is likewise the row stride of the scales,
// so a column slice starting at a multiple of 128 points scale at its first block column.
// Dequantised value of (r, c): F32 as is; BF16 exact; FP8 e4m3(code) * scale, one f32 rounding (exact for the
// ue8m0 power-of-two scales) -- the same values the slice-1 loader stored.
enum class WType : int { F32 = 0, BF16 = 1, FP8 = 2 };
// Bytes of one stored element of type t.
inline size_t wtype_bytes(WType t) { return t == WType::F32 ? 4 : t == WType::BF16 ? 2 : 1; }
struct WeightMat {
    WType type = WType::F32;
    int out = 0, in = 0;
    const void* data = nullptr;
    const float* scale = nullptr;  // FP8 only
    int scale_cols = 0;            // FP8 only: row stride of scale (ceil(in / 128) for a whole matrix)
    int ld = 0;                    // row stride of data in elements; 0 = in (rows contiguous)
    size_t stride() const { return ld > 0 ? size_t(ld) : size_t(in); }
    size_t nbytes() const;         // bytes of weight data (+ scales) one full pass reads
};
// out[0..len) = dequantised W[n, k0 .. k0+len).
void dequant_row(const WeightMat& w, int n, int k0, int len, float* out);
// What the caller knows of linear's x. Bf16: every value is a bf16 (its low 16 bits are zero), as in the fp8
// numerics; FP8 weights (K % 128 == 0) and BF16 weights (K % 64 == 0) may then take the AVX512-BF16 dot-product
// kernels (exact products, f32 sums), when the CPU has them and bf16_dot_enabled(). The claim is checked as x is
// packed: a value that is not a bf16 sends the call to the f32 kernels.
enum class XValues : int { F32 = 0, Bf16 = 1 };
// y[m, n] = sum_k x[m, k] * W[n, k]  (x [M, in], y [M, out]), dequantising on the fly; parallel over rows of W
// with n_threads OpenMP threads. Dispatches to the kernel path selected by kernel_path() (and for XValues::Bf16 to
// the bf16 dot kernels). Row m of y never depends on M or n_threads.
void linear(const float* x, const WeightMat& w, float* y, int M, int n_threads, XValues xv = XValues::F32);
// The scalar reference of linear (rows [n0, n1) of W only; single thread).
void linear_rows_scalar(const float* x, const WeightMat& w, float* y, int M, int n0, int n1);

// Kernel paths (runtime dispatch). DSV32_KERNELS=scalar|avx2|avx512|auto (default auto = best supported).
enum class KernelPath : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };
bool kernel_path_supported(KernelPath p);  // compiled in and supported by this CPU
KernelPath kernel_path();                  // the active path
// Forces a path (tests); returns false (and changes nothing) when unsupported.
bool set_kernel_path(KernelPath p);
const char* kernel_path_name(KernelPath p);
// The AVX512-BF16 dot kernels (linear with XValues::Bf16): compiled in and supported (AVX-512 F/BW/VL + BF16 + VBMI),
// and whether linear uses them (default: when supported and the active path is avx512, unless DSV32_BF16_DOT=0).
bool bf16_dot_supported();
bool bf16_dot_enabled();
// Turns the bf16 dot kernels on or off (tests, benchmarks); returns false when asked to turn on unsupported ones.
bool set_bf16_dot_enabled(bool on);
// The AMX-BF16 kernels (linear_amx.cpp): compiled in, supported (AMX-TILE and AMX-BF16 besides the bf16 dot kernels'
// features) and the tile data granted to this process by Linux (arch_prctl ARCH_REQ_XCOMP_PERM, asked once, by the first
// of these calls); and whether they take the bf16 dot kernels' products (FP8 projections, the bf16 head, the fp8
// numerics' attention scores and values; default: when supported, unless DSV32_AMX=0). Their sums run in another order
// than the AVX512-BF16 kernels' (within f32 rounding of them); every M, batch and thread count still give the same bits.
bool amx_supported();
bool amx_enabled();
// Turns it on or off (tests, benchmarks); returns false when asked to turn on an unsupported one.
bool set_amx_enabled(bool on);

// y[m, n] = sum_k x[m, k] * w[n, k]  (x [M,K], w [N,K], y [M,N]); parallel over rows of w.
void matmul(const float* x, const float* w, float* y, int M, int N, int K, int n_threads);
// dot and axpy dispatch to the active kernel path (AVX2 / AVX-512: 8 / 16 lanes, FMA); the *_scalar versions are the
// references test_kernels compares every path against (summation order differs by path: within float rounding).
float dot(const float* a, const float* b, int n);
float dot_scalar(const float* a, const float* b, int n);
void axpy(float a, const float* x, float* y, int n);  // y[i] += a * x[i]
void axpy_scalar(float a, const float* x, float* y, int n);

// y = w * x / sqrt(mean(x^2) + eps), per row of n (the sum of squares in double). y may be x.
void rmsnorm(const float* x, const float* w, float* y, int rows, int n, float eps);
// y = (x - mean) / sqrt(var + eps) * w + b (biased variance), per row of n.
void layernorm(const float* x, const float* w, const float* b, float* y, int rows, int n, float eps);
// In place, numerically stable; -inf entries get probability 0 (a NaN entry makes the row NaN). The exponentials and
// their sum: scalar std::exp with a double sum (softmax_scalar); on the AVX-512 and AVX2 paths a vector exp within 2
// ulp of it and the sum in double lanes, so the paths agree to a few ulp (test_kernels), not bitwise.
void softmax(float* x, int n);
void softmax_scalar(float* x, int n);
// In place y = H_128 x / sqrt(128) (Sylvester order), a 7-stage butterfly.
void hadamard128(float* x);
float silu(float z);

// ---- FP8 numerics primitives (architecture.md §3; the official demo's act_quant / fp8_gemm / fp8_index) ----
// f32 -> float8_e4m3fn: clamp to +-448 (saturation), round to nearest even, subnormals down to 2^-9; NaN -> 0x7F|sign.
uint8_t f32_to_e4m3(float v);
// bf16 round trip of a buffer (round to nearest even), in place.
void round_bf16(float* x, size_t n);
// n floats as bf16 bit patterns (round to nearest even: exact for bf16 values), and back (exact).
void pack_bf16(const float* x, int n, uint16_t* out);
void unpack_bf16(const uint16_t* x, int n, float* out);
// act_quant over rows of n (n % 128 == 0): per 128-block amax = max(max|x|, 1e-4), s = amax * f32(1/448), with
// ue8m0 s = 2^ceil(log2 s) (from the bits); q = e4m3(clamp(x / s, -448, 448)). codes [rows, n], scales [rows, n/128].
void act_quant(const float* x, int rows, int n, bool ue8m0, uint8_t* codes, float* scales);
// The act_quant round trip, in place: x = e4m3(x / s) * s (what an FP8 consumer of x sees).
void act_quant_roundtrip(float* x, int rows, int n, bool ue8m0);
// Scalar reference fp8_gemm: C[m, n] = bf16( sum_kb (sum_{k in kb} a8[m,k] b8[n,k]) * a_s[m,kb] * b_s[n/128,kb] ),
// each 128-wide K block summed in f32, then scaled and added to an f32 accumulator (per-K-block promotion).
// a8 [M, K] codes, a_s [M, K/128]; b is an FP8 WeightMat [N, K]. K % 128 == 0.
void fp8_gemm_ref(const uint8_t* a8, const float* a_s, const WeightMat& b, float* c, int M);
// The engine's fp8-mode linear: x [M, K] -> act_quant round trip (ue8m0) -> linear -> bf16. Equals fp8_gemm_ref up
// to f32 summation order (the dequantised activations e4m3 * 2^k are exact). Non-FP8 W: bf16(x) W -> bf16.
void linear_fp8(const float* x, const WeightMat& w, float* y, int M, int n_threads);
// Several linear_fp8 on the same x (every W of the same in-width): y_i = linear_fp8(x, W_i) for each part, bitwise, in
// one call. On the AVX512-BF16 path x is packed once and one parallel region splits the parts' rows together (a
// decode step's small projections: one stream a thread instead of a region and a cold start per matrix); elsewhere the
// calls one after the other.
struct LinearPart {
    const WeightMat* w;
    float* y;  // [M, w->out]
};
void linear_fp8_parts(const float* x, const LinearPart* parts, int n_parts, int M, int n_threads);

}  // namespace kernels
}  // namespace dsv32

#endif
