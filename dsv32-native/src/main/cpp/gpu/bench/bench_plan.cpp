// bench_plan.cpp: the benchmark's dimensions and repetitions (bench_plan.h).
#include "gpu/bench/bench_plan.h"

#include <stdexcept>

namespace dsv32::gpu::bench {

namespace {

// config_671B_v3.2.json (architecture.md §1.1).
ModelDims full_dims() {
    ModelDims m;
    m.D = 7168;
    m.qlr = 1536;
    m.H = 128;
    m.dn = 128;
    m.dr = 64;
    m.dv = 128;
    m.kvr = 512;
    m.inh = 64;
    m.ihd = 128;
    m.topk = 2048;
    m.E = 256;
    m.n_group = 8;
    m.topk_group = 4;
    m.ke = 8;
    m.I = 2048;
    m.n_shared = 1;
    m.route_scale = 2.5;
    return m;
}

// The same structure with every width a multiple of 128 where the FP8 path needs it (K of each GEMM, the latent,
// the indexer head: Hadamard-128), small enough that the whole benchmark runs on the CPU emulator in seconds.
ModelDims tiny_dims() {
    ModelDims m;
    m.D = 256;
    m.qlr = 128;
    m.H = 4;
    m.dn = 32;
    m.dr = 16;
    m.dv = 32;
    m.kvr = 128;
    m.inh = 4;
    m.ihd = 128;
    m.topk = 32;
    m.E = 16;
    m.n_group = 4;
    m.topk_group = 2;
    m.ke = 4;
    m.I = 128;
    m.n_shared = 1;
    m.route_scale = 2.5;
    return m;
}

}  // namespace

std::vector<GemmShape> layer_gemm_shapes(const ModelDims& m) {
    return {
        {"wq_a", m.qlr, m.D},
        {"wq_b", m.H * (m.dn + m.dr), m.qlr},
        {"wkv_a", m.kvr + m.dr, m.D},
        {"wkv_b", m.H * (m.dn + m.dv), m.kvr},
        {"wo", m.D, m.H * m.dv},
        {"idx_wq_b", m.inh * m.ihd, m.qlr},
        {"idx_wk", m.ihd, m.D},
        {"expert_w1", m.I, m.D},  // w3 has the same shape
        {"expert_w2", m.D, m.I},
    };
}

BenchPlan make_plan(const std::string& scale, bool quick) {
    BenchPlan p;
    p.scale = scale;
    if (scale == "full") {
        p.m = full_dims();
        p.gemm_ms = {1, 64, 4096};
        p.contexts = {8192, 32768, 131072};
        p.attn_batch = 64;
        p.layer_batches = {1, 64};
        p.layer_ctx = 4096;
        p.copy_bytes = size_t(1) << 30;
        p.warmup = quick ? 1 : 2;
        p.iters = quick ? 3 : 10;
    } else if (scale == "tiny") {
        p.m = tiny_dims();
        p.gemm_ms = {1, 16, 64};
        p.contexts = {64, 128, 256};
        p.attn_batch = 4;
        p.layer_batches = {1, 4};
        p.layer_ctx = 96;
        p.copy_bytes = size_t(1) << 20;
        p.warmup = 0;
        p.iters = 1;
    } else {
        throw std::invalid_argument("--scale " + scale + ": expected full or tiny");
    }
    p.gemms = layer_gemm_shapes(p.m);
    return p;
}

}  // namespace dsv32::gpu::bench
