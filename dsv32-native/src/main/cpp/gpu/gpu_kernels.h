// gpu_kernels.h: host-callable launchers of the GPU math kernels (CUDA now, HIP later through gpu/portability.h).
//
// Conventions (all launchers):
//  * Every pointer argument is DEVICE memory unless its comment says "host". Row-major; weights in PyTorch Linear
//    layout [out, in], exactly as kernels::WeightMat (kernels/kernels.h).
//  * Work is enqueued on `stream` (asynchronous; nothing synchronises). Sizes of 0 rows are valid and launch nothing.
//  * Arguments are validated on the host BEFORE launching: a bad size or a null pointer throws std::invalid_argument
//    whose message names the launcher and the argument. A failed launch throws dsv32::gpu::GpuError (portability.h).
//    Data that lives on the device (token ids, positions, expert tables, sampling params) cannot be checked on the
//    host: the kernels treat out-of-range values as documented per launcher (zeros / skip / status codes), never
//    reading out of bounds.
//  * Numerics match the CPU scalar references (kernels/, model/, sampling/): the same f32 (or double) formulas;
//    only the summation order of reductions differs, except where a comment says "bit-exact".
#ifndef DSV32_GPU_GPU_KERNELS_H
#define DSV32_GPU_GPU_KERNELS_H

#include <cstddef>
#include <cstdint>

#include "gpu/portability.h"

namespace dsv32::gpu {

// ---------------------------------------------------------------------------------------------------------------
// Weight views
// ---------------------------------------------------------------------------------------------------------------

// The device twin of kernels::WeightMat (same field meanings; data / scale are device pointers):
//   F32: float[out * ld];  BF16: uint16 bf16 bits;  FP8: e4m3 bytes with f32 block scales
//   scale[(r / 128) * scale_cols + c / 128]; dequantised (r, c) = e4m3(code) * scale (one f32 rounding).
// Element (r, c) lies at data[r * stride() + c]; ld == 0 means ld = in.
enum class GpuWType : int { F32 = 0, BF16 = 1, FP8 = 2 };
struct GpuWeight {
    GpuWType type = GpuWType::F32;
    int out = 0, in = 0;
    int ld = 0;
    const void* data = nullptr;
    const float* scale = nullptr;  // FP8 only
    int scale_cols = 0;            // FP8 only (>= ceil(in / 128))
    DSV32_HOST_DEVICE size_t stride() const { return ld > 0 ? size_t(ld) : size_t(in); }
};

// Throws std::invalid_argument "<what>: ..." when w is not a usable view (null data, out/in <= 0, ld < in, FP8 without
// scales or scale_cols < ceil(in / 128), unknown type). Used by every launcher taking a weight; exposed so that a
// caller building a device table of expert views (grouped_linear) can check each view once, at upload time.
void validate_weight(const GpuWeight& w, const char* what);

// ---------------------------------------------------------------------------------------------------------------
// 1. Embedding
// ---------------------------------------------------------------------------------------------------------------

// y[m, :] = dequantised table row (tokens[m] - vocab0), for m in [0, M); y is [M, table.in] f32.
// A token outside [vocab0, vocab0 + table.out) gives a row of zeros (vocab-parallel embedding, architecture.md §5
// step 2: the other ranks own it). Bit-exact with kernels::dequant_row.
void embedding(const GpuWeight& table, const int32_t* tokens, int M, int vocab0, float* y, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 2. Norms
// ---------------------------------------------------------------------------------------------------------------

// y = w * x / sqrt(mean(x^2) + eps) per row of n (kernels::rmsnorm: sum of squares in double). y may equal x.
void rmsnorm(const float* x, const float* w, float* y, int rows, int n, float eps, gpuStream_t stream);

// Fused residual step of transformer.cpp: resid += x; [round_bf16: resid = bf16(resid)]; y = rmsnorm(resid);
// [round_bf16: y = bf16(y)]. round_bf16 is the fp8-numerics mode (the residual stream and the norm output bf16).
void add_rmsnorm(float* resid, const float* x, const float* w, float* y, int rows, int n, float eps, bool round_bf16,
                 gpuStream_t stream);

// y = (x - mean) / sqrt(var + eps) * w + b per row of n (biased variance, mean/var in double: kernels::layernorm;
// the indexer's k-norm, architecture.md §7). y may equal x.
void layernorm(const float* x, const float* w, const float* b, float* y, int rows, int n, float eps, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 3. Linear
// ---------------------------------------------------------------------------------------------------------------

// y[m, n] = sum_k x[m, k] * W[n, k] (x [M, in] row stride ldx, y [M, out] row stride ldy; 0 = contiguous), W
// dequantised on the fly, f32 accumulation. M <= 8 takes the weight-streaming GEMV path (one warp per output column,
// streams W once for all M rows; an FP8 W with a 16-byte aligned row stride and data pointer streams 16 codes per
// lane and load, kernels/gemv_fp8.cuh), larger M the 64 x 64 shared-memory tiled GEMM. x and y must not overlap.
void linear(const float* x, const GpuWeight& w, float* y, int M, gpuStream_t stream, int ldx = 0, int ldy = 0);

// Grouped linear for the routed experts (architecture.md §8): for each group g in [0, G) and each slot j in
// [offsets[g], offsets[g+1]):  y[j, :] = x[row(j), :] . W_g^T,  row(j) = rows[j] when rows != nullptr (gather:
// token ids from moe_bucket) else j (x already in slot order, e.g. the w2 input).
//   weights: DEVICE array of G views (all with out == N, in == K: check each with validate_weight when building it);
//   offsets: device [G + 1], non-decreasing, offsets[0] == 0, offsets[G] <= max_slots (moe_bucket's output);
//   x [*, K] (contiguous), y [max_slots, N] (contiguous). max_rows_per_group (host) bounds the rows of any group (e.g.
//   the number of tokens of the step); it only sizes the grid, larger groups are still computed completely.
// A group whose view has null data is skipped (its y rows untouched).
void grouped_linear(const float* x, const GpuWeight* weights, int G, const int32_t* offsets, const int32_t* rows,
                    float* y, int N, int K, int max_slots, int max_rows_per_group, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 4. FP8 numerics (architecture.md §3)
// ---------------------------------------------------------------------------------------------------------------

// kernels::act_quant, bit-exact: rows of n (n % 128 == 0), per 128-block amax = max(max|x|, 1e-4),
// s = amax * f32(1/448) (ue8m0: 2^ceil(log2 s)), codes = e4m3(clamp(x / s, +-448)) (RNE, saturating).
// codes [rows, n], scales [rows, n / 128].
void act_quant(const float* x, int rows, int n, bool ue8m0, uint8_t* codes, float* scales, gpuStream_t stream);
// kernels::act_quant_roundtrip, bit-exact, in place: x = e4m3(x / s) * s.
void act_quant_roundtrip(float* x, int rows, int n, bool ue8m0, gpuStream_t stream);
// kernels::fp8_gemm_ref: C[m, n] = bf16( sum_kb (sum_{k in kb} a8[m,k] b8[n,k]) * (a_s[m,kb] * b_s[n/128,kb]) ),
// each 128-wide K block summed in f32 then promoted into the f32 accumulator. b must be FP8 with b.in % 128 == 0.
// a8 [M, K], a_s [M, K / 128], c [M, N] (values bf16-rounded, stored as f32).
void fp8_gemm(const uint8_t* a8, const float* a_s, const GpuWeight& b, float* c, int M, gpuStream_t stream);
// The engine's fp8-mode linear (kernels::linear_fp8): FP8 W with in % 128 == 0: act_quant (ue8m0) of x, then the
// block-scaled fp8_gemm (bf16 output); any other W: bf16(x) . W^T, then bf16. x [M, in] and y [M, out] contiguous.
// scratch: device memory of at least linear_fp8_scratch_bytes(w, M) bytes (the codes and scales, or the bf16 copy
// of x), not used by anything else meanwhile.
size_t linear_fp8_scratch_bytes(const GpuWeight& w, int M);
void linear_fp8(const float* x, const GpuWeight& w, float* y, int M, void* scratch, size_t scratch_bytes, gpuStream_t stream);
// x = bf16(x), round to nearest even (NaN stays NaN), bit-exact with kernels::round_bf16.
void round_bf16(float* x, size_t n, gpuStream_t stream);
// Bit-exact f32 -> e4m3 codes (kernels::f32_to_e4m3), elementwise; for tests and ad-hoc quantisation.
void f32_to_e4m3(const float* x, uint8_t* codes, size_t n, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 5. RoPE (architecture.md §4)
// ---------------------------------------------------------------------------------------------------------------

// Rotates, for every row r and head h, the dim-wide slice x[(r * heads + h) * stride + offset .. + dim) at position
// positions[r] (device int32 [rows]), with freqs (device [dim / 2], Rope::freqs as the host computed them: YaRN
// included). interleaved: pairs (2i, 2i+1) (MLA); else pairs (i, i + dim/2) (the indexer). The angle is the f32
// product pos * freq and cos/sin are taken in double, as Rope::apply. Requires dim even, offset + dim <= stride.
void rope(float* x, int rows, int heads, int stride, int offset, int dim, const int32_t* positions, const float* freqs,
          bool interleaved, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 6. Hadamard-128
// ---------------------------------------------------------------------------------------------------------------

// In place x[r, 0..128) = H_128 x / sqrt(128) (Sylvester order) for each of rows contiguous rows of 128; the same
// butterfly order as kernels::hadamard128, hence bit-exact.
void hadamard128(float* x, int rows, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 7. Elementwise / small reductions
// ---------------------------------------------------------------------------------------------------------------

// In place softmax over each row of n (kernels::softmax: max-subtracted, sum in double; -inf -> 0; an all -inf row
// becomes zeros).
void softmax(float* x, int rows, int n, gpuStream_t stream);
// x = silu(x) = x / (1 + exp(-x)), in place.
void silu(float* x, size_t n, gpuStream_t stream);
// y = silu(a) * b (SwiGLU), then bf16-rounded when round_bf16 (fp8 numerics, moe.cpp swiglu). y may equal a or b.
void swiglu(const float* a, const float* b, float* y, size_t n, bool round_bf16, gpuStream_t stream);
// y += alpha * x (product rounded, then added: no FMA contraction in these helpers).
void add_scaled(float* y, const float* x, float alpha, size_t n, gpuStream_t stream);
// x *= alpha.
void scale(float* x, float alpha, size_t n, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 8. MoE routing (architecture.md §8, model/moe.cpp)
// ---------------------------------------------------------------------------------------------------------------

enum class GateScore : int { Sigmoid = 0, Softmax = 1 };

// Per token s: scores = sigmoid(logits[s]) (or softmax over the E logits), biased = scores + bias (bias may be null:
// no bias); group score = sum of the top 2 biased scores of each of n_group groups (with bias) or the group max
// (without); keep the topk_group best groups (ties: lower group index), then the topk best experts of the kept groups
// by biased score (ties: lower expert index); weights = scores (unbiased) of those experts, normalised to sum 1 for
// Sigmoid (the sum in double, as moe.cpp) -- Softmax scores are not renormalised (the reference model.py) -- and times
// route_scale (double, as cfg.routed_scaling_factor; the weight is float(score / sum * route_scale)). ids [S, topk] / weights [S, topk] in selection order (descending biased score).
// Requires E % n_group == 0, 1 <= topk_group <= n_group, 1 <= topk <= topk_group * (E / n_group), E <= 1024.
void moe_route(const float* logits, const float* bias, int S, int E, int n_group, int topk_group, int topk,
               double route_scale, GateScore score, int32_t* ids, float* weights, gpuStream_t stream);

// Buckets the S * topk (token, expert) choices by expert, tokens ascending within an expert (moe.cpp's order):
//   offsets [E + 1] (offsets[e] .. offsets[e+1] are expert e's slots), rows [S * topk] (the token of each slot),
//   slot_weight [S * topk] (its routing weight), slot_of [S * topk] (slot of choice (s, i), i.e. where row s's i-th
//   expert output lands). ids outside [0, E) are ignored (their slot_of is -1).
void moe_bucket(const int32_t* ids, const float* weights, int S, int topk, int E, int32_t* offsets, int32_t* rows,
                float* slot_weight, int32_t* slot_of, gpuStream_t stream);

// out[s, :] += sum over s's choices in ascending expert id order of weights[s, i] * y[slot_of[s, i], :] (the order
// moe.cpp adds the routed experts in; each term rounded as w * y then added, no FMA). y is grouped_linear's w2 output
// [S * topk, D]. Choices with slot_of < 0 are skipped.
void moe_combine(float* out, const float* y, const int32_t* ids, const float* weights, const int32_t* slot_of, int S,
                 int topk, int D, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 9. Top-k select (the DSA indexer's selection, architecture.md §7)
// ---------------------------------------------------------------------------------------------------------------

// For each row r: the k largest of scores[r * ld + 0 .. len_r), len_r = lengths ? lengths[r] : n (clamped to
// [0, n]), by an MSD radix select over the float order bits (4 passes of 8 bits; never a sort). Ties: the lower
// position wins (model/indexer.cpp orders by (score desc, position asc) and takes the first k). -inf and NaN scores
// are never selected. out_idx[r * k + j], j < out_count[r] = min(k, number of selectable entries): the selected
// positions ascending (like the CPU's `selected` lists); the rest of the row's k slots are -1. out_count may be null.
// Requires 1 <= k <= n, ld >= n.
void topk_select(const float* scores, int rows, int n, int ld, const int32_t* lengths, int k, int32_t* out_idx,
                 int32_t* out_count, gpuStream_t stream);

// ---------------------------------------------------------------------------------------------------------------
// 10. Sampling (sampling/sampling.h semantics)
// ---------------------------------------------------------------------------------------------------------------

// One row per sequence. u is the uniform double in [0, 1) the host drew with sampling::uniform01 from the sequence's
// SplitMix64 state (exactly one draw per non-greedy sample, as the CPU), so the RNG stream stays on the host.
struct GpuSampleParams {
    double temperature = 1.0;  // 0 = greedy (argmax, lowest id on ties; u ignored)
    double top_p = 0.95;       // (0, 1]; 1 = off
    double u = 0.0;            // [0, 1)
    int32_t top_k = 0;         // 0 = off
    int32_t pad_ = 0;
};

// Status per row (the kernels validate what lives on the device).
enum GpuSampleStatus : int32_t {
    SAMPLE_OK = 0,
    SAMPLE_NAN_LOGIT = 1,      // a logit is NaN
    SAMPLE_POS_INF_LOGIT = 2,  // a logit is +inf
    SAMPLE_ALL_NEG_INF = 3,    // no finite logit
    SAMPLE_BAD_PARAMS = 4,     // temperature / top_k / top_p / u out of range
};

// tokens[r] = the token sampling::sample would return for logits[r * ld .. + vocab) with params[r] and the uniform
// params[r].u (candidate order logit desc / id asc, top-k, softmax of (l - lmax) / T in double, top-p nucleus,
// draw). The weights' running sums are formed per radix bucket instead of one by one, so a draw can differ from
// the CPU's only when u falls within ~1e-15 (relative) of a cumulative boundary. status[r] (may be null): a
// GpuSampleStatus; on a non-OK status tokens[r] = -1. params: device [rows].
void sample(const float* logits, int rows, int vocab, int ld, const GpuSampleParams* params, int32_t* tokens,
            int32_t* status, gpuStream_t stream);

// tokens[r] = argmax of logits row r (lowest id on ties; -inf excluded; -1 when a row holds no value > -inf or a NaN).
void argmax(const float* logits, int rows, int vocab, int ld, int32_t* tokens, gpuStream_t stream);

}  // namespace dsv32::gpu

#endif
