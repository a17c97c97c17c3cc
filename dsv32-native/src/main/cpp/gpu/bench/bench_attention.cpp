// bench_attention.cpp: the attention section (bench_sections.h). Per context L, attn_batch decode rows (one
// sequence of L cached positions each):
//  * indexer logits: sum_h w_h ReLU(q_h . k_t) over the L cached indexer keys (engine_kernels.h indexer_logits);
//    bytes: the keys (f32) read and the scores written; FLOPs 2 L heads d per row;
//  * indexer top-k: topk_select of min(topk, L) of the L scores; bytes: the scores read;
//  * sparse decode: mla_decode (absorbed MLA) over the selected latents. FLOPs as FlashMLA counts them: per row,
//    head and selected key 2 (kvr + dr) for the score and 2 kvr for the output; the kernel's time also holds the
//    W_UK / W_UV absorption, which FlashMLA leaves to separate GEMMs. Bytes: each selected latent + k_pe once, wkv_b,
//    q and o. The context of index 1 (32K in the full plan) carries the target.
#include <cmath>
#include <string>
#include <vector>

#include "gpu/bench/bench_cache.h"
#include "gpu/bench/bench_device.h"
#include "gpu/bench/bench_sections.h"
#include "gpu/engine_kernels.h"
#include "gpu/gpu_kernels.h"

namespace dsv32::gpu::bench {

void bench_attention(const BenchPlan& plan, const Stream& stream, Report& report) {
    const ModelDims& m = plan.m;
    const gpuStream_t s = static_cast<gpuStream_t>(stream.handle());
    const int B = plan.attn_batch;
    for (size_t ci = 0; ci < plan.contexts.size(); ++ci) {
        const int L = plan.contexts[ci];
        DevicePool pool;
        TensorMaker make(pool, stream, 2000 + ci * 100);
        const CacheRef cache = make_decode_cache(make, m, B, L, stream);
        const float* iq = make.f32(size_t(B) * m.inh * m.ihd, -1.0f, 1.0f);
        const float* iw = make.f32(size_t(B) * m.inh, 0.0f, float(1.0 / std::sqrt(double(m.inh) * m.ihd)));
        float* scores = pool.alloc<float>(size_t(B) * L);
        const int K = m.topk < L ? m.topk : L;
        int32_t* sel = pool.alloc<int32_t>(size_t(B) * K);
        int32_t* cnt = pool.alloc<int32_t>(size_t(B));
        const std::string ctx = "ctx=" + std::to_string(L);

        Row logits{"attention", "indexer logits " + ctx, "B=" + std::to_string(B) + " heads=" + std::to_string(m.inh) +
                   " d=" + std::to_string(m.ihd) + " keys=" + std::to_string(L)};
        logits.time_us = time_us([&] { indexer_logits(iq, iw, B, 0, m.inh, m.ihd, cache, scores, L, s); }, plan.warmup, plan.iters, stream);
        logits.flops = 2.0 * B * double(L) * m.inh * m.ihd;
        logits.bytes = double(B) * L * (index_key_bytes(m) + 4.0) + 4.0 * B * (double(m.inh) * m.ihd + m.inh);
        logits.note = "f32 keys (the engine's cache)";
        report.add(logits);

        Row topk{"attention", "indexer top-k " + ctx, "B=" + std::to_string(B) + " n=" + std::to_string(L) + " k=" + std::to_string(K)};
        topk.time_us = time_us([&] { topk_select(scores, B, L, L, nullptr, K, sel, cnt, s); }, plan.warmup, plan.iters, stream);
        topk.bytes = 4.0 * B * double(L) + 4.0 * B * K;
        report.add(topk);

        double n_sel = 0;
        for (int32_t c : to_host(cnt, size_t(B), stream)) n_sel += c;
        const int dq = m.dn + m.dr;
        const float* q = make.f32(size_t(B) * m.H * dq, -1.0f, 1.0f);
        const GpuWeight wkv_b = make.fp8(m.H * (m.dn + m.dv), m.kvr);
        std::vector<int32_t> rows_h(static_cast<size_t>(B));
        for (int i = 0; i < B; ++i) rows_h[size_t(i)] = i;
        const int32_t* rows = to_device(pool, rows_h, stream);
        float* o = pool.alloc<float>(size_t(B) * m.H * m.dv);
        const float scale = float(1.0 / std::sqrt(double(dq)));

        Row dec{"attention", "sparse decode " + ctx, "B=" + std::to_string(B) + " H=" + std::to_string(m.H) + " topk=" +
                std::to_string(K) + " d=" + std::to_string(m.kvr) + "+" + std::to_string(m.dr)};
        dec.time_us = time_us([&] { mla_decode(q, rows, B, m.H, m.dn, m.dr, m.dv, wkv_b, cache, sel, cnt, K, scale, false, o, s); },
                              plan.warmup, plan.iters, stream);
        require_finite(o, size_t(B) * m.H * m.dv, stream, "sparse decode " + ctx);
        dec.flops = n_sel * m.H * 2.0 * (2.0 * m.kvr + m.dr);
        dec.bytes = n_sel * latent_row_bytes(m) + weight_bytes(wkv_b) + 4.0 * B * m.H * (dq + m.dv);
        dec.note = "FLOPs as FlashMLA (QK + PV); time includes W_UK/W_UV absorption; f32 latents";
        if (ci == 1) {
            dec.target = Target::FlashMlaDecode;
            dec.goal = kGoalSparseDecodeFracFlashMla;
        }
        report.add(dec);
    }
}

}  // namespace dsv32::gpu::bench
