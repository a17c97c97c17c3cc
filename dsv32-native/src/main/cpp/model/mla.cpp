// mla.cpp: Multi-head Latent Attention in f32 numerics (architecture.md §6), with sparse attention over the
// indexer's selection. Prefill (S > 1): MHA form, k_nope/v = wkv_b(latent) for every cached position, so chunks
// with start > 0 attend to the cache too. Decode (S == 1): absorbed form over the cached latent.
#include <cmath>

#include "kernels/kernels.h"
#include "model/model.h"

namespace dsv32 {

void Model::linear(const Linear& L, const float* x, int S, float* y) const {
    const kernels::WeightMat m = L.mat();
    if (fp8_ && m.type == kernels::WType::FP8) kernels::linear_fp8(x, m, y, S, threads());
    else kernels::linear(x, m, y, S, threads());  // f32 numerics; in fp8 numerics the gate / bf16 weights run in f32 too
}

void Model::attention(int l, const float* x, int S, int start, SeqCache::Layer* c, float* out) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const RankWeights::Layer& R = shard(l);  // this rank's heads: wq_b, wkv_b rows and wo columns (§9)
    const int dn = cfg_.qk_nope_head_dim, dr = cfg_.qk_rope_head_dim;
    const int dv = cfg_.v_head_dim, kvr = cfg_.kv_lora_rank, qlr = cfg_.q_lora_rank;
    const int dq = dn + dr;
    const int H = R.wq_b.out / dq;  // heads on this rank (num_attention_heads / mp)
    const bool writer = rank().rank == 0;  // the ranks share the cache; rank 0 appends (model/ranks.cpp)
    const float eps = float(cfg_.rms_norm_eps);

    std::vector<float> qa(size_t(S) * qlr), qr(size_t(S) * qlr), q(size_t(S) * H * dq);
    linear(L.wq_a, x, S, qa.data());
    kernels::rmsnorm(qa.data(), L.q_norm.data(), qr.data(), S, qlr, eps);
    bf16(qr.data(), qr.size());
    linear(R.wq_b, qr.data(), S, q.data());
    std::vector<float> kv(size_t(S) * (kvr + dr)), lat(size_t(S) * kvr);
    linear(L.wkv_a, x, S, kv.data());
    for (int s = 0; s < S; ++s) {
        const int pos = start + s;
        for (int h = 0; h < H; ++h) rope_.apply(q.data() + (size_t(s) * H + h) * dq + dn, pos, true);
        float* row = kv.data() + size_t(s) * (kvr + dr);
        kernels::rmsnorm(row, L.kv_norm.data(), lat.data() + size_t(s) * kvr, 1, kvr, eps);
        rope_.apply(row + kvr, pos, true);
        if (fp8_) {  // latent: bf16, then the per-128-block FP8 round trip (ue8m0); k_pe stays bf16
            bf16(lat.data() + size_t(s) * kvr, size_t(kvr));
            if (kvr % 128 == 0) kernels::act_quant_roundtrip(lat.data() + size_t(s) * kvr, 1, kvr, true);
            bf16(row + kvr, size_t(dr));
        }
        if (!writer) continue;
        c->latent.insert(c->latent.end(), lat.data() + size_t(s) * kvr, lat.data() + size_t(s + 1) * kvr);
        c->k_pe.insert(c->k_pe.end(), row + kvr, row + kvr + dr);
    }
    rank_barrier();  // the appended rows are visible to every rank from here
    const int end = start + S;

    std::vector<std::vector<int>> sel;
    indexer(l, x, qr.data(), S, start, c, &sel);

    std::vector<float> o(size_t(S) * H * dv, 0.0f);
    const float scale = softmax_scale_;
    if (S > 1) {
        // MHA form over every cached position 0..end-1.
        const int kvw = dn + dv;
        std::vector<float> kvb(size_t(end) * H * kvw);
        linear(R.wkv_b, c->latent.data(), end, kvb.data());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads()) if (S > 8)
#endif
        for (int s = 0; s < S; ++s) {
            const std::vector<int>& keys = sel[size_t(s)];
            std::vector<float> p(keys.size());
            for (int h = 0; h < H; ++h) {
                const float* qh = q.data() + (size_t(s) * H + h) * dq;
                for (size_t j = 0; j < keys.size(); ++j) {
                    const int t = keys[j];
                    const float* kn = kvb.data() + (size_t(t) * H + h) * kvw;
                    const float* kp = c->k_pe.data() + size_t(t) * dr;
                    p[j] = (kernels::dot(qh, kn, dn) + kernels::dot(qh + dn, kp, dr)) * scale;
                }
                kernels::softmax(p.data(), int(p.size()));
                float* oh = o.data() + (size_t(s) * H + h) * dv;
                for (size_t j = 0; j < keys.size(); ++j) {
                    const float* v = kvb.data() + (size_t(keys[j]) * H + h) * kvw + dn;
                    for (int d = 0; d < dv; ++d) oh[d] += p[j] * v[d];
                }
            }
        }
    } else {
        // Absorbed form: q_lat = W_UK^T q_nope, scores = q_lat . c_t + q_pe . k_pe_t, o = W_UV (sum_t p_t c_t).
        const int kvw = dn + dv;
        const std::vector<int>& keys = sel[0];
        const kernels::WeightMat wkv_b = R.wkv_b.mat();
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads()) if (H > 1 && int64_t(H) * kvw * kvr > 200000)
#endif
        for (int h = 0; h < H; ++h) {
            std::vector<float> qlat(static_cast<size_t>(kvr)), olat(static_cast<size_t>(kvr)), p(keys.size()), wr(static_cast<size_t>(kvr));
            const float* qh = q.data() + size_t(h) * dq;
            const int wuk = h * kvw;      // rows h*kvw .. +dn of wkv_b
            const int wuv = wuk + dn;     // rows h*kvw+dn .. +dv
            for (int d = 0; d < dn; ++d) {
                const float qd = qh[d];
                kernels::dequant_row(wkv_b, wuk + d, 0, kvr, wr.data());
                for (int r = 0; r < kvr; ++r) qlat[size_t(r)] += qd * wr[size_t(r)];
            }
            for (size_t j = 0; j < keys.size(); ++j) {
                const int t = keys[j];
                p[j] = (kernels::dot(qlat.data(), c->latent.data() + size_t(t) * kvr, kvr) +
                        kernels::dot(qh + dn, c->k_pe.data() + size_t(t) * dr, dr)) * scale;
            }
            kernels::softmax(p.data(), int(p.size()));
            for (size_t j = 0; j < keys.size(); ++j) {
                const float* ct = c->latent.data() + size_t(keys[j]) * kvr;
                for (int r = 0; r < kvr; ++r) olat[size_t(r)] += p[j] * ct[r];
            }
            float* oh = o.data() + size_t(h) * dv;
            for (int d = 0; d < dv; ++d) {
                kernels::dequant_row(wkv_b, wuv + d, 0, kvr, wr.data());
                oh[d] = kernels::dot(wr.data(), olat.data(), kvr);
            }
        }
    }
    bf16(o.data(), o.size());
    linear(R.wo, o.data(), S, out);
    if (rank().mp > 1) {  // wo is row-parallel: sum the ranks' partial outputs in f32, then bf16 (§9)
        all_reduce(out, size_t(S) * size_t(cfg_.hidden_size));
        bf16(out, size_t(S) * size_t(cfg_.hidden_size));
    }
}

}  // namespace dsv32
