// sparse_kernels.cpp: top-k selection of the indexer and the MoE router (sparse_kernels.h).
#include "model/sparse_kernels.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace dsv32 {

void select_topk(const float* scores, int nkeys, int topk, std::vector<int>* sel) {
    // The topk-th largest score is the threshold: every key above it is taken, then the keys equal to it in
    // increasing position until there are topk, which is the (score desc, position asc) order's first topk as a set.
    // O(n) (nth_element on a copy) instead of sorting every key; the result comes out ascending.
    thread_local std::vector<float> tmp;
    tmp.assign(scores, scores + nkeys);
    std::nth_element(tmp.begin(), tmp.begin() + (topk - 1), tmp.end(), std::greater<float>());
    const float thr = tmp[size_t(topk - 1)];
    int above = 0;
    for (int t = 0; t < nkeys; ++t) above += scores[t] > thr;
    int ties = topk - above;
    sel->clear();
    sel->reserve(size_t(topk));
    for (int t = 0; t < nkeys; ++t) {
        const float v = scores[t];
        if (v > thr || (v == thr && ties-- > 0)) sel->push_back(t);
    }
}

void route_token(const float* logits, const float* bias, int n_experts, int n_groups, int topk_groups, int n_active,
                 double route_scale, RouteScratch* r, int* experts, float* weights) {
    const int E = n_experts, G = n_groups, per = E / G;
    r->sc.resize(size_t(E));
    r->sb.resize(size_t(E));
    r->gs.resize(size_t(G));
    r->gorder.resize(size_t(G));
    r->eorder.resize(size_t(E));
    r->keep.assign(size_t(G), 0);
    std::vector<float>& sc = r->sc;
    std::vector<float>& sb = r->sb;
    for (int e = 0; e < E; ++e) {
        sc[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
        sb[size_t(e)] = bias ? sc[size_t(e)] + bias[e] : sc[size_t(e)];
    }
    for (int g = 0; g < G; ++g) {
        const float* v = sb.data() + size_t(g) * per;
        if (bias) {  // sum of the top 2 biased scores of the group
            float a = -INFINITY, b = -INFINITY;
            for (int j = 0; j < per; ++j) {
                if (v[j] > a) {
                    b = a;
                    a = v[j];
                } else if (v[j] > b) {
                    b = v[j];
                }
            }
            r->gs[size_t(g)] = a + b;
        } else {  // the demo's fallback without bias: the group max
            r->gs[size_t(g)] = *std::max_element(v, v + per);
        }
    }
    std::iota(r->gorder.begin(), r->gorder.end(), 0);
    std::stable_sort(r->gorder.begin(), r->gorder.end(), [&](int a, int b) { return r->gs[size_t(a)] > r->gs[size_t(b)]; });
    for (int i = 0; i < topk_groups; ++i) r->keep[size_t(r->gorder[size_t(i)])] = 1;
    std::iota(r->eorder.begin(), r->eorder.end(), 0);
    auto key = [&](int e) { return r->keep[size_t(e / per)] ? sb[size_t(e)] : -INFINITY; };
    std::stable_sort(r->eorder.begin(), r->eorder.end(), [&](int a, int b) { return key(a) > key(b); });
    double sum = 0;
    for (int i = 0; i < n_active; ++i) sum += sc[size_t(r->eorder[size_t(i)])];
    for (int i = 0; i < n_active; ++i) {
        const int e = r->eorder[size_t(i)];
        experts[i] = e;
        weights[i] = float(sc[size_t(e)] / sum * route_scale);
    }
}

}  // namespace dsv32
