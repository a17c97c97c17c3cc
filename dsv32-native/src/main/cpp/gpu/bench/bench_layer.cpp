// bench_layer.cpp: the layer section (bench_sections.h): one decode step of a full MLA + indexer + MoE layer with
// random weights, for each batch of the plan (every row a decode token of its own sequence of layer_ctx positions).
// The launches are the CUDA engine's for a decode row in f32 numerics (gpu/gpu_model.cpp GpuModel::forward's layer
// body: attention with the indexer, the residual add + norm, the MoE), in the same order, on the same kernels; what
// the engine adds around a layer (embedding, head, the host's step tables) is not part of it.
//
// Bytes: what the step must read at least once: the layer's weights it touches (MLA, indexer, gate, the shared
// expert and the routed experts the step's tokens are routed to, counted from the routing), each row's indexer keys
// and selected latents. FLOPs: 2 per weight element and token for every linear, the indexer scores and the sparse
// attention (with the absorption). The batch-1 row carries the target (>= 70% of the copy bandwidth).
#include <cmath>
#include <string>
#include <vector>

#include "gpu/bench/bench_cache.h"
#include "gpu/bench/bench_device.h"
#include "gpu/bench/bench_sections.h"
#include "gpu/engine_kernels.h"
#include "gpu/gpu_kernels.h"
#include "gpu/host_runtime.h"

namespace dsv32::gpu::bench {

namespace {

struct Ffn {
    GpuWeight w1, w2, w3;
};

// One layer's weights (architecture.md §2.1), as the engine holds them on the device (device_weights.h).
struct LayerWeights {
    const float *attn_norm, *ffn_norm, *q_norm, *kv_norm, *idx_knorm_w, *idx_knorm_b, *gate_bias, *rope_freqs;
    GpuWeight wq_a, wq_b, wkv_a, wkv_b, wo, idx_wq_b, idx_wk, idx_wproj, gate;
    Ffn shared;
    std::vector<Ffn> experts;  // host copies of the views
    GpuWeight *experts_w1, *experts_w3, *experts_w2;  // device tables (grouped_linear)
    double mla_bytes = 0;      // MLA + indexer + gate + norms: read by every step
    double expert_bytes = 0;   // one expert's w1 + w2 + w3
};

LayerWeights make_layer(TensorMaker& mk, const ModelDims& m, const Stream& stream) {
    LayerWeights L{};
    const int dq = m.dn + m.dr;
    L.attn_norm = mk.f32(size_t(m.D), 0.9f, 1.1f);
    L.ffn_norm = mk.f32(size_t(m.D), 0.9f, 1.1f);
    L.q_norm = mk.f32(size_t(m.qlr), 0.9f, 1.1f);
    L.kv_norm = mk.f32(size_t(m.kvr), 0.9f, 1.1f);
    L.idx_knorm_w = mk.f32(size_t(m.ihd), 0.9f, 1.1f);
    L.idx_knorm_b = mk.f32(size_t(m.ihd), -0.1f, 0.1f);
    L.gate_bias = mk.f32(size_t(m.E), -0.01f, 0.01f);
    L.wq_a = mk.fp8(m.qlr, m.D);
    L.wq_b = mk.fp8(m.H * dq, m.qlr);
    L.wkv_a = mk.fp8(m.kvr + m.dr, m.D);
    L.wkv_b = mk.fp8(m.H * (m.dn + m.dv), m.kvr);
    L.wo = mk.fp8(m.D, m.H * m.dv);
    L.idx_wq_b = mk.fp8(m.inh * m.ihd, m.qlr);
    L.idx_wk = mk.fp8(m.ihd, m.D);
    L.idx_wproj = mk.bf16(m.inh, m.D);
    L.gate = mk.bf16(m.E, m.D);
    L.shared = Ffn{mk.fp8(m.I, m.D), mk.fp8(m.D, m.I), mk.fp8(m.I, m.D)};
    std::vector<GpuWeight> t1, t2, t3;
    for (int e = 0; e < m.E; ++e) {
        L.experts.push_back(Ffn{mk.fp8(m.I, m.D), mk.fp8(m.D, m.I), mk.fp8(m.I, m.D)});
        t1.push_back(L.experts.back().w1);
        t2.push_back(L.experts.back().w2);
        t3.push_back(L.experts.back().w3);
    }
    L.experts_w1 = to_device(mk.pool(), t1, stream);
    L.experts_w2 = to_device(mk.pool(), t2, stream);
    L.experts_w3 = to_device(mk.pool(), t3, stream);
    // RoPE frequencies theta^(-2i/d) (no YaRN: the values do not change the work).
    std::vector<float> freqs(size_t(m.dr / 2));
    for (int i = 0; i < m.dr / 2; ++i) freqs[size_t(i)] = float(std::pow(10000.0, -2.0 * i / m.dr));
    L.rope_freqs = to_device(mk.pool(), freqs, stream);
    for (const GpuWeight* w : {&L.wq_a, &L.wq_b, &L.wkv_a, &L.wkv_b, &L.wo, &L.idx_wq_b, &L.idx_wk, &L.idx_wproj, &L.gate})
        L.mla_bytes += weight_bytes(*w);
    L.mla_bytes += 4.0 * (2.0 * m.D + m.qlr + m.kvr + 2.0 * m.ihd + m.E);
    L.expert_bytes = weight_bytes(L.shared.w1) + weight_bytes(L.shared.w2) + weight_bytes(L.shared.w3);
    return L;
}

// The activations of a step of B rows (the engine's Scratch buffers).
struct Acts {
    float *h0, *h, *xn, *t, *qa, *qr, *q, *kv, *lat, *kpe, *o, *iq, *ik, *iw, *scores, *gate, *wts, *sw, *ff_a, *ff_b, *ex_a,
        *ex_b, *ex_y;
    int32_t *sel, *cnt, *rows, *ids, *offs, *brows, *slot_of;
};

Acts make_acts(TensorMaker& mk, const ModelDims& m, int B, int ctx, int K, const Stream& stream) {
    DevicePool& p = mk.pool();
    const size_t b = size_t(B), slots = b * size_t(m.ke);
    Acts a{};
    a.h0 = mk.f32(b * m.D, -1.0f, 1.0f);
    a.h = p.alloc<float>(b * m.D);
    a.xn = p.alloc<float>(b * m.D);
    a.t = p.alloc<float>(b * m.D);
    a.qa = p.alloc<float>(b * m.qlr);
    a.qr = p.alloc<float>(b * m.qlr);
    a.q = p.alloc<float>(b * m.H * (m.dn + m.dr));
    a.kv = p.alloc<float>(b * (m.kvr + m.dr));
    a.lat = p.alloc<float>(b * m.kvr);
    a.kpe = p.alloc<float>(b * m.dr);
    a.o = p.alloc<float>(b * m.H * m.dv);
    a.iq = p.alloc<float>(b * m.inh * m.ihd);
    a.ik = p.alloc<float>(b * m.ihd);
    a.iw = p.alloc<float>(b * m.inh);
    a.scores = p.alloc<float>(b * ctx);
    a.sel = p.alloc<int32_t>(b * K);
    a.cnt = p.alloc<int32_t>(b);
    std::vector<int32_t> rows(b);
    for (int i = 0; i < B; ++i) rows[size_t(i)] = i;
    a.rows = to_device(p, rows, stream);
    a.gate = p.alloc<float>(b * m.E);
    a.ids = p.alloc<int32_t>(slots);
    a.wts = p.alloc<float>(slots);
    a.offs = p.alloc<int32_t>(size_t(m.E) + 1);
    a.brows = p.alloc<int32_t>(slots);
    a.sw = p.alloc<float>(slots);
    a.slot_of = p.alloc<int32_t>(slots);
    a.ff_a = p.alloc<float>(b * m.I);
    a.ff_b = p.alloc<float>(b * m.I);
    a.ex_a = p.alloc<float>(slots * m.I);
    a.ex_b = p.alloc<float>(slots * m.I);
    a.ex_y = p.alloc<float>(slots * m.D);
    return a;
}

// One decode step (GpuModel::attention / indexer / moe for rows that are all decode tokens, f32 numerics).
void layer_step(const ModelDims& m, const LayerWeights& L, const Acts& a, const CacheRef& c, int B, int ctx, int K,
                gpuStream_t s) {
    const int dq = m.dn + m.dr, slots = B * m.ke;
    const float eps = 1e-6f;
    // The residual stream starts from the same input every step (the step updates it in place).
    check(gpuMemcpyAsync(a.h, a.h0, size_t(B) * m.D * 4, gpuMemcpyDeviceToDevice, static_cast<gpuStream_t>(s)),
          "gpuMemcpyAsync (residual)");
    rmsnorm(a.h, L.attn_norm, a.xn, B, m.D, eps, s);
    // MLA projections (architecture.md §6.1).
    linear(a.xn, L.wq_a, a.qa, B, s);
    rmsnorm(a.qa, L.q_norm, a.qr, B, m.qlr, eps, s);
    linear(a.qr, L.wq_b, a.q, B, s);
    linear(a.xn, L.wkv_a, a.kv, B, s);
    rope(a.q, B, m.H, dq, m.dn, m.dr, c.row_pos, L.rope_freqs, true, s);
    check(gpuMemcpy2DAsync(a.lat, size_t(m.kvr) * 4, a.kv, size_t(m.kvr + m.dr) * 4, size_t(m.kvr) * 4, size_t(B),
                            gpuMemcpyDeviceToDevice, static_cast<gpuStream_t>(s)), "gpuMemcpy2DAsync (latent)");
    check(gpuMemcpy2DAsync(a.kpe, size_t(m.dr) * 4, a.kv + m.kvr, size_t(m.kvr + m.dr) * 4, size_t(m.dr) * 4, size_t(B),
                            gpuMemcpyDeviceToDevice, static_cast<gpuStream_t>(s)), "gpuMemcpy2DAsync (k_pe)");
    rmsnorm(a.lat, L.kv_norm, a.lat, B, m.kvr, eps, s);
    rope(a.kpe, B, 1, m.dr, 0, m.dr, c.row_pos, L.rope_freqs, true, s);
    cache_store(a.lat, B, 0, CacheSlot::Latent, c, s);
    cache_store(a.kpe, B, 0, CacheSlot::KPe, c, s);
    // The indexer (§7): q, k, weights, rotations, the new key into the cache, scores, top-k.
    linear(a.qr, L.idx_wq_b, a.iq, B, s);
    linear(a.xn, L.idx_wk, a.ik, B, s);
    layernorm(a.ik, L.idx_knorm_w, L.idx_knorm_b, a.ik, B, m.ihd, eps, s);
    linear(a.xn, L.idx_wproj, a.iw, B, s);
    scale(a.iw, float(1.0 / std::sqrt(double(m.inh)) / std::sqrt(double(m.ihd))), size_t(B) * m.inh, s);
    rope(a.iq, B, m.inh, m.ihd, 0, m.dr, c.row_pos, L.rope_freqs, false, s);
    hadamard128(a.iq, B * m.inh, s);
    rope(a.ik, B, 1, m.ihd, 0, m.dr, c.row_pos, L.rope_freqs, false, s);
    hadamard128(a.ik, B, s);
    cache_store(a.ik, B, 0, CacheSlot::IndexKey, c, s);
    indexer_logits(a.iq, a.iw, B, 0, m.inh, m.ihd, c, a.scores, ctx, s);
    topk_select(a.scores, B, ctx, ctx, nullptr, K, a.sel, a.cnt, s);
    // Absorbed sparse attention (§6.3) and the output projection.
    mla_decode(a.q, a.rows, B, m.H, m.dn, m.dr, m.dv, L.wkv_b, c, a.sel, a.cnt, K, float(1.0 / std::sqrt(double(dq))), false, a.o, s);
    linear(a.o, L.wo, a.t, B, s);
    add_rmsnorm(a.h, a.t, L.ffn_norm, a.xn, B, m.D, eps, false, s);
    // MoE (§8): route, bucket, shared expert, routed experts as grouped GEMMs, combine.
    linear(a.xn, L.gate, a.gate, B, s);
    moe_route(a.gate, L.gate_bias, B, m.E, m.n_group, m.topk_group, m.ke, m.route_scale, GateScore::Sigmoid, a.ids, a.wts, s);
    moe_bucket(a.ids, a.wts, B, m.ke, m.E, a.offs, a.brows, a.sw, a.slot_of, s);
    linear(a.xn, L.shared.w1, a.ff_a, B, s);
    linear(a.xn, L.shared.w3, a.ff_b, B, s);
    swiglu(a.ff_a, a.ff_b, a.ff_a, size_t(B) * m.I, false, s);
    linear(a.ff_a, L.shared.w2, a.t, B, s);
    grouped_linear(a.xn, L.experts_w1, m.E, a.offs, a.brows, a.ex_a, m.I, m.D, slots, B, s);
    grouped_linear(a.xn, L.experts_w3, m.E, a.offs, a.brows, a.ex_b, m.I, m.D, slots, B, s);
    swiglu(a.ex_a, a.ex_b, a.ex_a, size_t(slots) * m.I, false, s);
    grouped_linear(a.ex_a, L.experts_w2, m.E, a.offs, nullptr, a.ex_y, m.D, m.I, slots, B, s);
    moe_combine(a.t, a.ex_y, a.ids, a.wts, a.slot_of, B, m.ke, m.D, s);
}

}  // namespace

void bench_layer(const BenchPlan& plan, const Stream& stream, Report& report) {
    const ModelDims& m = plan.m;
    const gpuStream_t s = static_cast<gpuStream_t>(stream.handle());
    DevicePool wpool;
    TensorMaker wmake(wpool, stream, 3000);
    const LayerWeights L = make_layer(wmake, m, stream);
    const int ctx = plan.layer_ctx, K = m.topk < ctx ? m.topk : ctx;
    for (size_t bi = 0; bi < plan.layer_batches.size(); ++bi) {
        const int B = plan.layer_batches[bi];
        DevicePool pool;
        TensorMaker make(pool, stream, 4000 + bi * 100);
        const CacheRef c = make_decode_cache(make, m, B, ctx, stream);
        const Acts a = make_acts(make, m, B, ctx, K, stream);
        // The step is deterministic: the first run tells which experts it reads and how many latents it selects.
        layer_step(m, L, a, c, B, ctx, K, s);
        require_finite(a.t, size_t(B) * m.D, stream, "layer step batch " + std::to_string(B) + ": MoE output");
        require_finite(a.o, size_t(B) * m.H * m.dv, stream, "layer step batch " + std::to_string(B) + ": attention output");
        const std::vector<int32_t> offs = to_host(a.offs, size_t(m.E) + 1, stream);
        double experts_hit = 0, routed = 0, n_sel = 0;
        for (int e = 0; e < m.E; ++e) {
            const int n = offs[size_t(e) + 1] - offs[size_t(e)];
            experts_hit += n > 0 ? 1 : 0;
            routed += n;
        }
        for (int32_t k : to_host(a.cnt, size_t(B), stream)) n_sel += k;

        Row r{"layer", "layer step batch=" + std::to_string(B), "B=" + std::to_string(B) + " ctx=" + std::to_string(ctx) +
              " experts read=" + std::to_string(int(experts_hit))};
        r.time_us = time_us([&] { layer_step(m, L, a, c, B, ctx, K, s); }, plan.warmup, plan.iters, stream);
        const double dq = m.dn + m.dr;
        r.bytes = L.mla_bytes + L.expert_bytes * (1.0 + experts_hit) + double(B) * ctx * index_key_bytes(m) +
                  n_sel * latent_row_bytes(m);
        const double per_token = double(m.qlr) * m.D + double(m.H) * dq * m.qlr + double(m.kvr + m.dr) * m.D +
                                 double(m.D) * m.H * m.dv + double(m.inh) * m.ihd * m.qlr + double(m.ihd) * m.D +
                                 double(m.inh) * m.D + double(m.E) * m.D + 3.0 * m.I * m.D;
        r.flops = 2.0 * B * per_token + 2.0 * routed * 3.0 * m.I * m.D + 2.0 * B * double(ctx) * m.inh * m.ihd +
                  n_sel * m.H * 2.0 * (2.0 * m.kvr + m.dr) + 2.0 * B * m.H * double(m.dn + m.dv) * m.kvr;
        r.note = "bytes: layer weights touched + indexer keys + selected latents; f32 numerics";
        if (bi == 0) {
            r.target = Target::CopyBandwidth;
            r.goal = kGoalLayerFracBw;
        }
        report.add(r);
    }
}

}  // namespace dsv32::gpu::bench
