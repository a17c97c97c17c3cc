// gpu_kernels.cu: the launchers of gpu_kernels.h: validate the host-side arguments (std::invalid_argument naming
// the launcher and the argument), pick the grid, launch on the caller's stream, check the launch.
#include "gpu/gpu_kernels.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "gpu/kernels/common.cuh"
#include "gpu/kernels/elementwise.cuh"
#include "gpu/kernels/embedding.cuh"
#include "gpu/kernels/fp8.cuh"
#include "gpu/kernels/gemv_fp8.cuh"
#include "gpu/kernels/hadamard.cuh"
#include "gpu/kernels/linear.cuh"
#include "gpu/kernels/moe.cuh"
#include "gpu/kernels/norm.cuh"
#include "gpu/kernels/rope.cuh"
#include "gpu/kernels/sampling.cuh"
#include "gpu/kernels/topk.cuh"

namespace dsv32::gpu {

namespace {

[[noreturn]] void bad(const char* fn, const std::string& msg) { throw std::invalid_argument(std::string(fn) + ": " + msg); }

void need_ptr(const void* p, const char* fn, const char* name) {
    if (!p) bad(fn, std::string(name) + " is null");
}
void need_pos(long long v, const char* fn, const char* name) {  // > 0
    if (v <= 0) bad(fn, std::string(name) + " must be > 0, got " + std::to_string(v));
}
void need_nonneg(long long v, const char* fn, const char* name) {
    if (v < 0) bad(fn, std::string(name) + " must be >= 0, got " + std::to_string(v));
}
void check_launch(const char* fn) {
    const gpuError_t e = gpuGetLastError();
    if (e != gpuSuccess) throw GpuError(std::string(fn) + ": kernel launch failed: " + gpuGetErrorString(e));
}

// Blocks for a grid-stride elementwise kernel of n items.
unsigned elementwise_blocks(size_t n, unsigned threads) {
    const size_t b = (n + threads - 1) / threads;
    return unsigned(std::min<size_t>(std::max<size_t>(b, 1), 65535u * 8u));
}
constexpr unsigned kElemThreads = 256;
constexpr unsigned kRowThreads = 256;

}  // namespace

void validate_weight(const GpuWeight& w, const char* what) {
    const std::string name = what ? what : "weight";
    if (w.type != GpuWType::F32 && w.type != GpuWType::BF16 && w.type != GpuWType::FP8)
        throw std::invalid_argument(name + ": unknown weight type " + std::to_string(int(w.type)));
    if (w.out <= 0 || w.in <= 0)
        throw std::invalid_argument(name + ": out and in must be > 0, got [" + std::to_string(w.out) + ", " + std::to_string(w.in) + "]");
    if (w.ld != 0 && w.ld < w.in)
        throw std::invalid_argument(name + ": ld " + std::to_string(w.ld) + " < in " + std::to_string(w.in));
    if (!w.data) throw std::invalid_argument(name + ": data is null");
    if (w.type == GpuWType::FP8) {
        if (!w.scale) throw std::invalid_argument(name + ": FP8 weight without scale");
        const int need = (w.in + 127) / 128;
        if (w.scale_cols < need)
            throw std::invalid_argument(name + ": scale_cols " + std::to_string(w.scale_cols) + " < ceil(in / 128) = " + std::to_string(need));
    }
}

void embedding(const GpuWeight& table, const int32_t* tokens, int M, int vocab0, float* y, gpuStream_t stream) {
    const char* fn = "gpu::embedding";
    need_nonneg(M, fn, "M");
    validate_weight(table, "gpu::embedding: table");
    if (M == 0) return;
    need_ptr(tokens, fn, "tokens");
    need_ptr(y, fn, "y");
    DSV32_LAUNCH(dev::embedding_kernel, unsigned(M), kRowThreads, stream)(table, tokens, vocab0, y);
    check_launch(fn);
}

void rmsnorm(const float* x, const float* w, float* y, int rows, int n, float eps, gpuStream_t stream) {
    const char* fn = "gpu::rmsnorm";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(w, fn, "w");
    need_ptr(y, fn, "y");
    DSV32_LAUNCH(dev::rmsnorm_kernel, unsigned(rows), kRowThreads, stream)(x, nullptr, w, y, n, eps, false);
    check_launch(fn);
}

void add_rmsnorm(float* resid, const float* x, const float* w, float* y, int rows, int n, float eps, bool round_bf16,
                 gpuStream_t stream) {
    const char* fn = "gpu::add_rmsnorm";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (rows == 0) return;
    need_ptr(resid, fn, "resid");
    need_ptr(x, fn, "x");
    need_ptr(w, fn, "w");
    need_ptr(y, fn, "y");
    if (y == resid) bad(fn, "y must not alias resid");
    DSV32_LAUNCH(dev::rmsnorm_kernel, unsigned(rows), kRowThreads, stream)(x, resid, w, y, n, eps, round_bf16);
    check_launch(fn);
}

void layernorm(const float* x, const float* w, const float* b, float* y, int rows, int n, float eps, gpuStream_t stream) {
    const char* fn = "gpu::layernorm";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(w, fn, "w");
    need_ptr(b, fn, "b");
    need_ptr(y, fn, "y");
    DSV32_LAUNCH(dev::layernorm_kernel, unsigned(rows), kRowThreads, stream)(x, w, b, y, n, eps);
    check_launch(fn);
}

void linear(const float* x, const GpuWeight& w, float* y, int M, gpuStream_t stream, int ldx, int ldy) {
    const char* fn = "gpu::linear";
    need_nonneg(M, fn, "M");
    validate_weight(w, "gpu::linear: w");
    if (ldx == 0) ldx = w.in;
    if (ldy == 0) ldy = w.out;
    if (ldx < w.in) bad(fn, "ldx " + std::to_string(ldx) + " < in " + std::to_string(w.in));
    if (ldy < w.out) bad(fn, "ldy " + std::to_string(ldy) + " < out " + std::to_string(w.out));
    if (M == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(y, fn, "y");
    const bool fp8_stream = w.type == GpuWType::FP8 && w.stride() % 16 == 0 && reinterpret_cast<uintptr_t>(w.data) % 16 == 0;
    if (M <= dev::kGemvMaxRows && fp8_stream) {
        const unsigned blocks = unsigned((w.out + dev::kGemvFp8Rows - 1) / dev::kGemvFp8Rows);
        DSV32_LAUNCH(dev::gemv_fp8_kernel, blocks, dev::kGemvFp8Rows * DSV32_WARP_SIZE, stream)(x, ldx, w, y, ldy, M);
    } else if (M <= dev::kGemvMaxRows) {
        const unsigned blocks = unsigned((w.out + dev::kGemvWarps - 1) / dev::kGemvWarps);
        DSV32_LAUNCH(dev::gemv_kernel, blocks, dev::kGemvWarps * DSV32_WARP_SIZE, stream)(x, ldx, w, y, ldy, M);
    } else {
        const dim3 grid(unsigned((w.out + dev::kTileN - 1) / dev::kTileN), unsigned((M + dev::kTileM - 1) / dev::kTileM));
        if (grid.y > 65535u) bad(fn, "M " + std::to_string(M) + " too large for one launch");
        DSV32_LAUNCH(dev::tiled_gemm_kernel, grid, dev::kTileThreads, stream)(x, ldx, w, y, ldy, M);
    }
    check_launch(fn);
}

void grouped_linear(const float* x, const GpuWeight* weights, int G, const int32_t* offsets, const int32_t* rows,
                    float* y, int N, int K, int max_slots, int max_rows_per_group, gpuStream_t stream) {
    const char* fn = "gpu::grouped_linear";
    need_nonneg(G, fn, "G");
    need_pos(N, fn, "N");
    need_pos(K, fn, "K");
    need_nonneg(max_slots, fn, "max_slots");
    need_nonneg(max_rows_per_group, fn, "max_rows_per_group");
    if (G == 0 || max_slots == 0 || max_rows_per_group == 0) return;
    if (G > 65535) bad(fn, "G " + std::to_string(G) + " > 65535");
    need_ptr(x, fn, "x");
    need_ptr(weights, fn, "weights");
    need_ptr(offsets, fn, "offsets");
    need_ptr(y, fn, "y");
    const int tiles = std::min((max_rows_per_group + dev::kTileM - 1) / dev::kTileM, 64);
    const dim3 grid(unsigned((N + dev::kTileN - 1) / dev::kTileN), unsigned(G), unsigned(tiles));
    DSV32_LAUNCH(dev::grouped_gemm_kernel, grid, dev::kTileThreads, stream)(x, weights, offsets, rows, y, N, K, max_slots);
    check_launch(fn);
}

void act_quant(const float* x, int rows, int n, bool ue8m0, uint8_t* codes, float* scales, gpuStream_t stream) {
    const char* fn = "gpu::act_quant";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (n % 128) bad(fn, "n must be a multiple of 128, got " + std::to_string(n));
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(codes, fn, "codes");
    need_ptr(scales, fn, "scales");
    const size_t blocks = size_t(rows) * size_t(n / 128);
    if (blocks > 0x7FFFFFFFu) bad(fn, "rows * n too large");
    DSV32_LAUNCH(dev::act_quant_kernel, unsigned(blocks), 128, stream)(const_cast<float*>(x), n, ue8m0, codes, scales);
    check_launch(fn);
}

void act_quant_roundtrip(float* x, int rows, int n, bool ue8m0, gpuStream_t stream) {
    const char* fn = "gpu::act_quant_roundtrip";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (n % 128) bad(fn, "n must be a multiple of 128, got " + std::to_string(n));
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    const size_t blocks = size_t(rows) * size_t(n / 128);
    if (blocks > 0x7FFFFFFFu) bad(fn, "rows * n too large");
    DSV32_LAUNCH(dev::act_quant_kernel, unsigned(blocks), 128, stream)(x, n, ue8m0, nullptr, nullptr);
    check_launch(fn);
}

void fp8_gemm(const uint8_t* a8, const float* a_s, const GpuWeight& b, float* c, int M, gpuStream_t stream) {
    const char* fn = "gpu::fp8_gemm";
    need_nonneg(M, fn, "M");
    validate_weight(b, "gpu::fp8_gemm: b");
    if (b.type != GpuWType::FP8) bad(fn, "b must be an FP8 weight");
    if (b.in % 128) bad(fn, "b.in must be a multiple of 128, got " + std::to_string(b.in));
    if (M == 0) return;
    need_ptr(a8, fn, "a8");
    need_ptr(a_s, fn, "a_s");
    need_ptr(c, fn, "c");
    const dim3 grid(unsigned((b.out + dev::kTileN - 1) / dev::kTileN), unsigned((M + dev::kTileM - 1) / dev::kTileM));
    if (grid.y > 65535u) bad(fn, "M " + std::to_string(M) + " too large for one launch");
    DSV32_LAUNCH(dev::fp8_gemm_kernel, grid, dev::kTileThreads, stream)(a8, a_s, b, c, M);
    check_launch(fn);
}

namespace {

bool fp8_path(const GpuWeight& w) { return w.type == GpuWType::FP8 && w.in % 128 == 0; }
size_t align16(size_t n) { return (n + 15) / 16 * 16; }

}  // namespace

size_t linear_fp8_scratch_bytes(const GpuWeight& w, int M) {
    if (M <= 0 || w.in <= 0) return 0;
    const size_t mk = size_t(M) * size_t(w.in);
    if (fp8_path(w)) return align16(mk) + size_t(M) * size_t(w.in / 128) * sizeof(float);
    return mk * sizeof(float);
}

void linear_fp8(const float* x, const GpuWeight& w, float* y, int M, void* scratch, size_t scratch_bytes, gpuStream_t stream) {
    const char* fn = "gpu::linear_fp8";
    need_nonneg(M, fn, "M");
    validate_weight(w, "gpu::linear_fp8: w");
    if (M == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(y, fn, "y");
    need_ptr(scratch, fn, "scratch");
    const size_t need = linear_fp8_scratch_bytes(w, M);
    if (scratch_bytes < need)
        bad(fn, "scratch_bytes " + std::to_string(scratch_bytes) + " < linear_fp8_scratch_bytes = " + std::to_string(need));
    if (fp8_path(w)) {
        uint8_t* codes = static_cast<uint8_t*>(scratch);
        float* scales = reinterpret_cast<float*>(codes + align16(size_t(M) * size_t(w.in)));
        act_quant(x, M, w.in, true, codes, scales, stream);
        fp8_gemm(codes, scales, w, y, M, stream);
        return;
    }
    float* xb = static_cast<float*>(scratch);
    const size_t n = size_t(M) * size_t(w.in);
    DSV32_LAUNCH(dev::round_bf16_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, xb, n);
    check_launch(fn);
    linear(xb, w, y, M, stream);
    round_bf16(y, size_t(M) * size_t(w.out), stream);
}

void round_bf16(float* x, size_t n, gpuStream_t stream) {
    const char* fn = "gpu::round_bf16";
    if (n == 0) return;
    need_ptr(x, fn, "x");
    DSV32_LAUNCH(dev::round_bf16_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, x, n);
    check_launch(fn);
}

void f32_to_e4m3(const float* x, uint8_t* codes, size_t n, gpuStream_t stream) {
    const char* fn = "gpu::f32_to_e4m3";
    if (n == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(codes, fn, "codes");
    DSV32_LAUNCH(dev::f32_to_e4m3_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, codes, n);
    check_launch(fn);
}

void rope(float* x, int rows, int heads, int stride, int offset, int dim, const int32_t* positions, const float* freqs,
          bool interleaved, gpuStream_t stream) {
    const char* fn = "gpu::rope";
    need_nonneg(rows, fn, "rows");
    need_pos(heads, fn, "heads");
    need_pos(dim, fn, "dim");
    need_nonneg(offset, fn, "offset");
    if (dim % 2) bad(fn, "dim must be even, got " + std::to_string(dim));
    if (offset + dim > stride)
        bad(fn, "offset + dim (" + std::to_string(offset + dim) + ") > stride " + std::to_string(stride));
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    need_ptr(positions, fn, "positions");
    need_ptr(freqs, fn, "freqs");
    const size_t n = size_t(rows) * size_t(heads) * size_t(dim / 2);
    DSV32_LAUNCH(dev::rope_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, rows, heads, stride, offset, dim,
                                                                                       positions, freqs, interleaved);
    check_launch(fn);
}

void hadamard128(float* x, int rows, gpuStream_t stream) {
    const char* fn = "gpu::hadamard128";
    need_nonneg(rows, fn, "rows");
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    const unsigned blocks = unsigned((rows + dev::kHadamardRowsPerBlock - 1) / dev::kHadamardRowsPerBlock);
    DSV32_LAUNCH(dev::hadamard128_kernel, blocks, dim3(64, dev::kHadamardRowsPerBlock), stream)(x, rows);
    check_launch(fn);
}

void softmax(float* x, int rows, int n, gpuStream_t stream) {
    const char* fn = "gpu::softmax";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (rows == 0) return;
    need_ptr(x, fn, "x");
    DSV32_LAUNCH(dev::softmax_kernel, unsigned(rows), kRowThreads, stream)(x, n);
    check_launch(fn);
}

void silu(float* x, size_t n, gpuStream_t stream) {
    const char* fn = "gpu::silu";
    if (n == 0) return;
    need_ptr(x, fn, "x");
    DSV32_LAUNCH(dev::silu_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, n);
    check_launch(fn);
}

void swiglu(const float* a, const float* b, float* y, size_t n, bool round_bf16, gpuStream_t stream) {
    const char* fn = "gpu::swiglu";
    if (n == 0) return;
    need_ptr(a, fn, "a");
    need_ptr(b, fn, "b");
    need_ptr(y, fn, "y");
    DSV32_LAUNCH(dev::swiglu_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(a, b, y, n, round_bf16);
    check_launch(fn);
}

void add_scaled(float* y, const float* x, float alpha, size_t n, gpuStream_t stream) {
    const char* fn = "gpu::add_scaled";
    if (n == 0) return;
    need_ptr(y, fn, "y");
    need_ptr(x, fn, "x");
    DSV32_LAUNCH(dev::add_scaled_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(y, x, alpha, n);
    check_launch(fn);
}

void scale(float* x, float alpha, size_t n, gpuStream_t stream) {
    const char* fn = "gpu::scale";
    if (n == 0) return;
    need_ptr(x, fn, "x");
    DSV32_LAUNCH(dev::scale_kernel, elementwise_blocks(n, kElemThreads), kElemThreads, stream)(x, alpha, n);
    check_launch(fn);
}

void moe_route(const float* logits, const float* bias, int S, int E, int n_group, int topk_group, int topk,
               double route_scale, GateScore score, int32_t* ids, float* weights, gpuStream_t stream) {
    const char* fn = "gpu::moe_route";
    need_nonneg(S, fn, "S");
    need_pos(E, fn, "E");
    need_pos(n_group, fn, "n_group");
    if (E > dev::kMaxExperts) bad(fn, "E " + std::to_string(E) + " > " + std::to_string(dev::kMaxExperts));
    if (E % n_group) bad(fn, "E " + std::to_string(E) + " is not a multiple of n_group " + std::to_string(n_group));
    if (topk_group < 1 || topk_group > n_group)
        bad(fn, "topk_group must be in [1, n_group = " + std::to_string(n_group) + "], got " + std::to_string(topk_group));
    const int avail = topk_group * (E / n_group);
    if (topk < 1 || topk > avail)
        bad(fn, "topk must be in [1, topk_group * E / n_group = " + std::to_string(avail) + "], got " + std::to_string(topk));
    if (score != GateScore::Sigmoid && score != GateScore::Softmax) bad(fn, "unknown score function");
    if (!(route_scale == route_scale)) bad(fn, "route_scale is NaN");
    if (S == 0) return;
    need_ptr(logits, fn, "logits");
    need_ptr(ids, fn, "ids");
    need_ptr(weights, fn, "weights");
    DSV32_LAUNCH(dev::moe_route_kernel, unsigned(S), kRowThreads, stream)(logits, bias, E, n_group, topk_group, topk, route_scale,
                                                                   score == GateScore::Softmax ? 1 : 0, ids, weights);
    check_launch(fn);
}

void moe_bucket(const int32_t* ids, const float* weights, int S, int topk, int E, int32_t* offsets, int32_t* rows,
                float* slot_weight, int32_t* slot_of, gpuStream_t stream) {
    const char* fn = "gpu::moe_bucket";
    need_nonneg(S, fn, "S");
    need_pos(topk, fn, "topk");
    need_pos(E, fn, "E");
    if (E > 65535) bad(fn, "E " + std::to_string(E) + " > 65535");
    if (size_t(S) * size_t(topk) > 0x7FFFFFFFu) bad(fn, "S * topk too large");
    need_ptr(offsets, fn, "offsets");
    if (S > 0) {
        need_ptr(ids, fn, "ids");
        need_ptr(weights, fn, "weights");
        need_ptr(rows, fn, "rows");
        need_ptr(slot_weight, fn, "slot_weight");
        need_ptr(slot_of, fn, "slot_of");
    }
    DSV32_LAUNCH(dev::moe_bucket_kernel, unsigned(E), kRowThreads, stream)(ids, weights, S * topk, E, offsets, rows, slot_weight,
                                                                    slot_of, topk);
    check_launch(fn);
}

void moe_combine(float* out, const float* y, const int32_t* ids, const float* weights, const int32_t* slot_of, int S,
                 int topk, int D, gpuStream_t stream) {
    const char* fn = "gpu::moe_combine";
    need_nonneg(S, fn, "S");
    need_pos(topk, fn, "topk");
    need_pos(D, fn, "D");
    if (topk > dev::kMaxTopk) bad(fn, "topk " + std::to_string(topk) + " > " + std::to_string(dev::kMaxTopk));
    if (S == 0) return;
    need_ptr(out, fn, "out");
    need_ptr(y, fn, "y");
    need_ptr(ids, fn, "ids");
    need_ptr(weights, fn, "weights");
    need_ptr(slot_of, fn, "slot_of");
    DSV32_LAUNCH(dev::moe_combine_kernel, unsigned(S), kRowThreads, stream)(out, y, ids, weights, slot_of, topk, D);
    check_launch(fn);
}

void topk_select(const float* scores, int rows, int n, int ld, const int32_t* lengths, int k, int32_t* out_idx,
                 int32_t* out_count, gpuStream_t stream) {
    const char* fn = "gpu::topk_select";
    need_nonneg(rows, fn, "rows");
    need_pos(n, fn, "n");
    if (k < 1 || k > n) bad(fn, "k must be in [1, n = " + std::to_string(n) + "], got " + std::to_string(k));
    if (ld < n) bad(fn, "ld " + std::to_string(ld) + " < n " + std::to_string(n));
    if (rows == 0) return;
    need_ptr(scores, fn, "scores");
    need_ptr(out_idx, fn, "out_idx");
    DSV32_LAUNCH(dev::topk_kernel, unsigned(rows), dev::kTopkThreads, stream)(scores, n, ld, lengths, k, out_idx, out_count);
    check_launch(fn);
}

void sample(const float* logits, int rows, int vocab, int ld, const GpuSampleParams* params, int32_t* tokens,
            int32_t* status, gpuStream_t stream) {
    const char* fn = "gpu::sample";
    need_nonneg(rows, fn, "rows");
    need_pos(vocab, fn, "vocab");
    if (ld < vocab) bad(fn, "ld " + std::to_string(ld) + " < vocab " + std::to_string(vocab));
    if (rows == 0) return;
    need_ptr(logits, fn, "logits");
    need_ptr(params, fn, "params");
    need_ptr(tokens, fn, "tokens");
    DSV32_LAUNCH(dev::sample_kernel, unsigned(rows), dev::kSampleThreads, stream)(logits, vocab, ld, params, tokens, status);
    check_launch(fn);
}

void argmax(const float* logits, int rows, int vocab, int ld, int32_t* tokens, gpuStream_t stream) {
    const char* fn = "gpu::argmax";
    need_nonneg(rows, fn, "rows");
    need_pos(vocab, fn, "vocab");
    if (ld < vocab) bad(fn, "ld " + std::to_string(ld) + " < vocab " + std::to_string(vocab));
    if (rows == 0) return;
    need_ptr(logits, fn, "logits");
    need_ptr(tokens, fn, "tokens");
    DSV32_LAUNCH(dev::argmax_kernel, unsigned(rows), dev::kSampleThreads, stream)(logits, vocab, ld, tokens);
    check_launch(fn);
}

}  // namespace dsv32::gpu
