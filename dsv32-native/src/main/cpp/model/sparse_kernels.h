// sparse_kernels.h: the indexer's top-k selection and the MoE router, as free functions: Model (indexer.cpp,
// moe.cpp) runs them on its scores and gate logits, and the micro-benchmarks (bench/bench_sparse.cpp) run the same
// code on synthetic data. (The indexer scores and the absorbed decode attention are kernels/attention.h.)
#ifndef DSV32_MODEL_SPARSE_KERNELS_H
#define DSV32_MODEL_SPARSE_KERNELS_H

#include <vector>

#include "kernels/kernels.h"

namespace dsv32 {

// The topk best of scores[0..nkeys) as ascending key positions in *sel; among equal scores the lower position wins
// (§7, so that selections are reproducible). 1 <= topk <= nkeys.
void select_topk(const float* scores, int nkeys, int topk, std::vector<int>* sel);

// noaux_tc routing of one token (§8): sigmoid scores s_e of the gate logits [n_experts]; with bias b (null = none)
// the groups are ranked by the sum of their top-2 biased scores s_e + b_e (without: by their max), the best
// topk_groups groups kept, and the n_active best biased scores of the kept groups chosen. Writes the chosen experts
// (best first) to experts[n_active] and their weights s_e / sum(chosen s) * route_scale to weights[n_active].
// n_groups divides n_experts; 1 <= topk_groups <= n_groups; 1 <= n_active <= topk_groups * (n_experts / n_groups).
struct RouteScratch {  // reused from call to call: only grows
    std::vector<float> sc, sb, gs;
    std::vector<int> gorder, eorder;  // the best topk_groups groups, the n_active experts, best first
    std::vector<char> keep;
};
void route_token(const float* logits, const float* bias, int n_experts, int n_groups, int topk_groups, int n_active,
                 double route_scale, RouteScratch* scratch, int* experts, float* weights);

}  // namespace dsv32

#endif
