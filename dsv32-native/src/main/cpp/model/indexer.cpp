// indexer.cpp: the DSA lightning indexer in f32 numerics (architecture.md §7).
// I(s,t) = sum_h w_h * n_heads^-0.5 * d^-0.5 * ReLU(q_h(s) . k(t)), q and k after RoPE (non-interleaved, first 64
// dims) and Hadamard-128; top-k = min(index_topk, causal keys), ties -> the lower key position.
#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"
#include "model/model.h"

namespace dsv32 {

void Model::indexer(int l, const float* x, const float* qr, int S, int start, SeqCache::Layer* c,
                    std::vector<std::vector<int>>* selected) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const int nh = cfg_.index_n_heads, hd = cfg_.index_head_dim, D = cfg_.hidden_size;
    const bool inter = cfg_.indexer_rope_interleaved != bool(debug_flags_ & DEBUG_INDEXER_ROPE_INTERLEAVED);
    (void)D;

    std::vector<float> q(size_t(S) * nh * hd), k(size_t(S) * hd), kraw(size_t(S) * hd), wts(size_t(S) * nh);
    linear(L.idx_wq_b, qr, S, q.data());
    linear(L.idx_wk, x, S, kraw.data());
    kernels::layernorm(kraw.data(), L.idx_knorm_w.data(), L.idx_knorm_b.data(), k.data(), S, hd, float(cfg_.rms_norm_eps));
    linear(L.idx_wproj, x, S, wts.data());
    const float wscale = float(1.0 / std::sqrt(double(nh)) / std::sqrt(double(hd)));
    for (auto& v : wts) v *= wscale;
    for (int s = 0; s < S; ++s) {
        const int pos = start + s;
        for (int h = 0; h < nh; ++h) {
            float* qh = q.data() + (size_t(s) * nh + h) * hd;
            rope_.apply(qh, pos, inter);
            kernels::hadamard128(qh);
        }
        float* ks = k.data() + size_t(s) * hd;
        rope_.apply(ks, pos, inter);
        kernels::hadamard128(ks);
        if (fp8_ && hd % 128 == 0) {  // q8 / k8 = act_quant of the bf16 rotated q, k: score with their exact values
            bf16(q.data() + size_t(s) * nh * hd, size_t(nh) * hd);
            kernels::act_quant_roundtrip(q.data() + size_t(s) * nh * hd, nh, hd, true);
            bf16(ks, size_t(hd));
            kernels::act_quant_roundtrip(ks, 1, hd, true);
        }
    }
    // Replicated on every rank (§7); the ranks share the cache: rank 0 appends, all read after the barrier.
    if (rank().rank == 0) c->idx_k.insert(c->idx_k.end(), k.begin(), k.end());
    rank_barrier();

    selected->assign(size_t(S), {});
    const int topk = cfg_.index_topk;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads()) if (S > 8)
#endif
    for (int s = 0; s < S; ++s) {
        const int pos = start + s;
        const int nkeys = pos + 1;
        std::vector<int>& sel = (*selected)[size_t(s)];
        if (nkeys <= topk) {
            sel.resize(static_cast<size_t>(nkeys));
            for (int t = 0; t < nkeys; ++t) sel[size_t(t)] = t;
            continue;
        }
        std::vector<float> score(static_cast<size_t>(nkeys));
        const float* qs = q.data() + size_t(s) * nh * hd;
        const float* ws = wts.data() + size_t(s) * nh;
        for (int t = 0; t < nkeys; ++t) {
            const float* kt = c->idx_k.data() + size_t(t) * hd;
            float acc = 0;
            for (int h = 0; h < nh; ++h) {
                const float d = kernels::dot(qs + size_t(h) * hd, kt, hd);
                if (d > 0) acc += ws[h] * d;
            }
            score[size_t(t)] = acc;
        }
        std::vector<int> order(static_cast<size_t>(nkeys));
        for (int t = 0; t < nkeys; ++t) order[size_t(t)] = t;
        std::partial_sort(order.begin(), order.begin() + topk, order.end(), [&](int a, int b) {
            return score[size_t(a)] > score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a < b);
        });
        sel.assign(order.begin(), order.begin() + topk);
        std::sort(sel.begin(), sel.end());
    }
    if (topk_observer && rank().rank == 0)
        for (int s = 0; s < S; ++s) topk_observer(l, start + s, (*selected)[size_t(s)]);
}

}  // namespace dsv32
