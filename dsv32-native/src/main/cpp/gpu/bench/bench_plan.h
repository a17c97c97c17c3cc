// bench_plan.h: what the device benchmark measures: the model dimensions (the real 671B ones, architecture.md §1.1,
// §2.1, or a tiny set with the same structure for the CPU emulator), the GEMM shapes taken from them, the batch
// sizes, contexts and repetitions, and the published reference figures the report compares with.
#ifndef DSV32_GPU_BENCH_BENCH_PLAN_H
#define DSV32_GPU_BENCH_BENCH_PLAN_H

#include <cstddef>
#include <string>
#include <vector>

namespace dsv32::gpu::bench {

// Published figures (docs: ../shared/docs/performance-anchors.md).
constexpr double kFp8PeakTflops = 1979.0;        // H200 SXM FP8 dense, NVIDIA datasheet (§1.1)
constexpr double kH200HbmPublishedGbps = 4800.0;  // H200 SXM HBM3e, NVIDIA datasheet (§1.1); for context only
constexpr double kFlashMlaSparseDecodeTflops = 410.0;  // FlashMLA sparse FP8 decode, top-k 2048, H800 (§1.2)
// The targets (issue #8): GEMM at the prefill M >= 50% of FP8 peak; batch-1 layer step >= 70% of the
// measured copy bandwidth; sparse decode at the 32K context >= 60% of FlashMLA's H800 figure.
constexpr double kGoalGemmFracPeak = 0.50;
constexpr double kGoalLayerFracBw = 0.70;
constexpr double kGoalSparseDecodeFracFlashMla = 0.60;

struct ModelDims {
    int D = 0;            // hidden size
    int qlr = 0;          // q_lora_rank
    int H = 0;            // attention heads
    int dn = 0, dr = 0, dv = 0;  // qk_nope, qk_rope (also the indexer's rope width), v head dims
    int kvr = 0;          // kv_lora_rank
    int inh = 0, ihd = 0; // indexer heads, head dim (128: the Hadamard width)
    int topk = 0;         // indexer top-k
    int E = 0, n_group = 0, topk_group = 0, ke = 0;  // routed experts, groups, kept groups, experts per token
    int I = 0;            // expert intermediate size
    int n_shared = 0;     // shared experts
    double route_scale = 1.0;
};

// One weight's GEMM problem: y [M, N] = x [M, K] . W^T, W FP8 [N, K] with 128 x 128 block scales.
struct GemmShape {
    std::string name;  // the weight (architecture.md §2.1 names)
    int N = 0, K = 0;
};

struct BenchPlan {
    std::string scale;               // "full" or "tiny"
    ModelDims m;
    std::vector<GemmShape> gemms;
    std::vector<int> gemm_ms;        // decode .. prefill M (the last is the prefill shape the GEMM target applies to)
    std::vector<int> contexts;       // sparse decode / indexer contexts (index 1 is the "32K" one of the target)
    int attn_batch = 0;              // decode rows (one sequence each) of the attention rows
    std::vector<int> layer_batches;  // the layer step's batches (the first, 1, is the target's)
    int layer_ctx = 0;               // context of every sequence in the layer step
    size_t copy_bytes = 0;           // bytes copied by the bandwidth rows
    int warmup = 0, iters = 0;       // untimed and timed repetitions of each row
};

// scale "full" (the real 671B layer shapes) or "tiny" (same structure, dims small enough for the CPU emulator);
// quick: fewer repetitions. Throws std::invalid_argument for another scale.
BenchPlan make_plan(const std::string& scale, bool quick);

// The GEMM shapes of one MLA + indexer + MoE layer (wq_a, wq_b, wkv_a, wkv_b, wo, indexer wq_b / wk, expert w1 / w3
// (one shape), expert w2).
std::vector<GemmShape> layer_gemm_shapes(const ModelDims& m);

}  // namespace dsv32::gpu::bench

#endif
