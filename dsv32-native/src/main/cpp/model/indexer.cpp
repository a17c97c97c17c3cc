// indexer.cpp: the DSA lightning indexer in f32 numerics (architecture.md §7).
// I(s,t) = sum_h w_h * n_heads^-0.5 * d^-0.5 * ReLU(q_h(s) . k(t)), q and k after RoPE (non-interleaved, first 64
// dims) and Hadamard-128; top-k = min(index_topk, causal keys), ties -> the lower key position.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "kernels/kernels.h"
#include "model/model.h"
#include "model/sparse_kernels.h"

namespace dsv32 {

void Model::indexer(int l, const float* x, const float* qr, const Step& st, const std::vector<KvCache::View>& c,
                    std::vector<std::vector<int>>* selected) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const int nh = cfg_.index_n_heads, hd = cfg_.index_head_dim;
    const bool inter = cfg_.indexer_rope_interleaved != bool(debug_flags_ & DEBUG_INDEXER_ROPE_INTERLEAVED);
    const int S = st.rows;  // the projections run once over all rows of the step
    const bool writer = rank().rank == 0;

    std::vector<float> q(size_t(S) * nh * hd), k(size_t(S) * hd), kraw(size_t(S) * hd), wts(size_t(S) * nh);
    linear(L.idx_wq_b, qr, S, q.data());
    linear(L.idx_wk, x, S, kraw.data());
    kernels::layernorm(kraw.data(), L.idx_knorm_w.data(), L.idx_knorm_b.data(), k.data(), S, hd, float(cfg_.rms_norm_eps));
    linear(L.idx_wproj, x, S, wts.data());
    const float wscale = float(1.0 / std::sqrt(double(nh)) / std::sqrt(double(hd)));
    for (auto& v : wts) v *= wscale;
    std::vector<int> pos_of(static_cast<size_t>(S)), seg_of(static_cast<size_t>(S));  // each row's position and entry
    for (size_t i = 0; i < st.segs.size(); ++i) {
        const Segment& g = st.segs[i];
        for (int s = g.row0; s < g.row0 + g.n; ++s) {
            const int pos = g.start + (s - g.row0);
            pos_of[size_t(s)] = pos;
            seg_of[size_t(s)] = int(i);
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
            // The entry's cache row (§7 k_cache). Replicated on every rank: the ranks share the cache, rank 0 writes.
            if (writer) std::copy_n(ks, hd, c[i].idx_k(pos));
        }
    }
    rank_barrier();  // every rank reads the keys from here

    // Scores I(s, t) of every row against its own entry's keys 0..pos (causal), for rows with more keys than top-k.
    // Rows go in groups of at most ~4M scores (bounded memory for long prefill chunks); within a group the work is
    // split into (row, 256-key chunk) items so that a single decode row uses every thread too. Each score is
    // computed the same way whatever the split.
    selected->assign(size_t(S), {});
    // DEBUG_DENSE_ATTENTION: every row keeps all its causal keys (no scores computed), i.e. dense MLA attention (§7
    // with top-k >= context); identical to DSA while nkeys <= index_topk.
    const int topk = (debug_flags_ & DEBUG_DENSE_ATTENTION) ? std::numeric_limits<int>::max() : cfg_.index_topk;
    constexpr int CHUNK = 256;
    constexpr size_t GROUP_SCORES = size_t(1) << 22;
    std::vector<std::vector<float>> score(static_cast<size_t>(S));
    std::vector<std::pair<int, int>> items;  // (row, first key)
    for (int s0 = 0; s0 < S;) {
        int s1 = s0;
        size_t group = 0;
        items.clear();
        for (; s1 < S && (s1 == s0 || group + size_t(pos_of[size_t(s1)]) + 1 <= GROUP_SCORES); ++s1) {
            const int nkeys = pos_of[size_t(s1)] + 1;
            if (nkeys <= topk) continue;
            group += size_t(nkeys);
            score[size_t(s1)].resize(size_t(nkeys));
            for (int t0 = 0; t0 < nkeys; t0 += CHUNK) items.emplace_back(s1, t0);
        }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads()) if (items.size() > 1)
#endif
        for (size_t it = 0; it < items.size(); ++it) {
            const int s = items[it].first, t0 = items[it].second;
            const int nkeys = pos_of[size_t(s)] + 1, t1 = std::min(nkeys, t0 + CHUNK);
            const KvCache::View& cv = c[size_t(seg_of[size_t(s)])];
            const float* qs = q.data() + size_t(s) * nh * hd;
            const float* ws = wts.data() + size_t(s) * nh;
            float* sc = score[size_t(s)].data();
            index_scores(qs, ws, cv, t0, t1, nh, hd, sc + t0);
        }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads()) if (s1 - s0 > 8)
#endif
        for (int s = s0; s < s1; ++s) {
            const int nkeys = pos_of[size_t(s)] + 1;
            std::vector<int>& sel = (*selected)[size_t(s)];
            if (nkeys <= topk) {
                sel.resize(static_cast<size_t>(nkeys));
                for (int t = 0; t < nkeys; ++t) sel[size_t(t)] = t;
                continue;
            }
            std::vector<float>& score_s = score[size_t(s)];
            select_topk(score_s.data(), nkeys, topk, &sel);
            std::vector<float>().swap(score_s);  // free the group's scores as it goes
        }
        s0 = s1;
    }
    if (topk_observer && writer)
        for (int s = 0; s < S; ++s) topk_observer(l, pos_of[size_t(s)], (*selected)[size_t(s)]);
}

}  // namespace dsv32
