// sparse_kernels.h: the per-row inner loops of the DSA indexer, the sparse (absorbed) decode attention and the MoE
// router, as free functions: Model (indexer.cpp, mla.cpp, moe.cpp) runs them on its cache and weights, and the
// micro-benchmarks (bench_api.cpp) run the same code on synthetic data. f32 numerics; the operation order is the
// engine's, so results are bitwise the Model's.
#ifndef DSV32_MODEL_SPARSE_KERNELS_H
#define DSV32_MODEL_SPARSE_KERNELS_H

#include <vector>

#include "kernels/kernels.h"

namespace dsv32 {

// Indexer scores of one query row against keys [t0, t1) (architecture.md §7):
//   out[t - t0] = sum_h w[h] * ReLU(q_h . k_t),  q [n_heads * head_dim], w [n_heads] (already scaled), k_t = kv.idx_k(t).
// Keys is anything with `const float* idx_k(int t) const` (KvCache::View, or a plain array in the benchmarks).
template <class Keys>
void index_scores(const float* q, const float* w, const Keys& kv, int t0, int t1, int n_heads, int head_dim, float* out) {
    for (int t = t0; t < t1; ++t) {
        const float* kt = kv.idx_k(t);
        float acc = 0;
        for (int h = 0; h < n_heads; ++h) {
            const float d = kernels::dot(q + size_t(h) * head_dim, kt, head_dim);
            if (d > 0) acc += w[h] * d;
        }
        out[t - t0] = acc;
    }
}

// The topk best of scores[0..nkeys) as ascending key positions in *sel; among equal scores the lower position wins
// (§7, so that selections are reproducible). 1 <= topk <= nkeys.
void select_topk(const float* scores, int nkeys, int topk, std::vector<int>* sel);

// Absorbed sparse attention of one head of one decode token over the selected keys (§6.3):
//   p_j = softmax_j((q_lat . c_t + q_pe . k_pe_t) * scale),  olat += sum_j p_j c_t,  t = keys[j],
// q_lat [kvr], q_pe [dr], c_t = kv.latent(t) [kvr], k_pe_t = kv.k_pe(t) [dr]. p is scratch (resized to keys).
// Cache is anything with `const float* latent(int t) const` and `const float* k_pe(int t) const`.
template <class Cache>
void sparse_decode_head(const float* q_lat, const float* q_pe, const Cache& kv, const std::vector<int>& keys, int kvr,
                        int dr, float scale, std::vector<float>* p, float* olat) {
    p->resize(keys.size());
    for (size_t j = 0; j < keys.size(); ++j) {
        const int t = keys[j];
        (*p)[j] = (kernels::dot(q_lat, kv.latent(t), kvr) + kernels::dot(q_pe, kv.k_pe(t), dr)) * scale;
    }
    kernels::softmax(p->data(), int(p->size()));
    for (size_t j = 0; j < keys.size(); ++j) kernels::axpy((*p)[j], kv.latent(keys[j]), olat, kvr);
}

// noaux_tc routing of one token (§8): sigmoid scores s_e of the gate logits [n_experts]; with bias b (null = none)
// the groups are ranked by the sum of their top-2 biased scores s_e + b_e (without: by their max), the best
// topk_groups groups kept, and the n_active best biased scores of the kept groups chosen. Writes the chosen experts
// (best first) to experts[n_active] and their weights s_e / sum(chosen s) * route_scale to weights[n_active].
// n_groups divides n_experts; 1 <= topk_groups <= n_groups; 1 <= n_active <= topk_groups * (n_experts / n_groups).
struct RouteScratch {
    std::vector<float> sc, sb, gs;
    std::vector<int> gorder, eorder;
    std::vector<char> keep;
};
void route_token(const float* logits, const float* bias, int n_experts, int n_groups, int topk_groups, int n_active,
                 double route_scale, RouteScratch* scratch, int* experts, float* weights);

}  // namespace dsv32

#endif
