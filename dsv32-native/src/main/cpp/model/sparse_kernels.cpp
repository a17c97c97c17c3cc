// sparse_kernels.cpp: top-k selection of the indexer and the MoE router (sparse_kernels.h).
#include "model/sparse_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dsv32 {

namespace {

// An order-preserving unsigned key of a float: a > b as floats implies key(a) > key(b) (NaN aside; -0 sorts just
// below +0, harmless: the selection below compares the scores with the threshold as floats, where they are equal).
inline uint32_t order_key(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

inline float from_order_key(uint32_t k) {
    const uint32_t u = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
    float v;
    std::memcpy(&v, &u, 4);
    return v;
}

}  // namespace

void select_topk(const float* scores, int nkeys, int topk, std::vector<int>* sel) {
    // The topk-th largest score is the threshold: every key above it is taken, then the keys equal to it in
    // increasing position until there are topk, which is the (score desc, position asc) order's first topk as a set.
    // The threshold by radix selection on the scores' order keys, 11 + 11 + 10 bits from the top: a histogram of the
    // top digit over every score, then of the next digits over the scores that share the digits found so far. O(n)
    // whatever the scores (nth_element took 56 us a layer on the indexer's 4096 scores of a decode row, 13 on random
    // ones); the result comes out ascending.
    thread_local std::vector<uint32_t> keys, cand;
    keys.resize(size_t(nkeys));
    uint32_t hist[2048];
    std::fill(hist, hist + 2048, 0u);
    for (int t = 0; t < nkeys; ++t) {
        keys[size_t(t)] = order_key(scores[t]);
        ++hist[keys[size_t(t)] >> 21];
    }
    uint32_t need = uint32_t(topk);  // rank of the threshold among the scores that share the digits found so far
    auto find_bin = [&](int bins) {  // the bin holding the need-th largest; need becomes its rank within the bin
        for (int b = bins - 1; b >= 0; --b) {
            if (hist[b] >= need) return uint32_t(b);
            need -= hist[b];
        }
        return 0u;  // not reached: the bins hold at least need scores
    };
    uint32_t prefix = find_bin(2048) << 21;
    cand.clear();
    for (uint32_t k : keys)
        if ((k >> 21) == (prefix >> 21)) cand.push_back(k);
    std::fill(hist, hist + 2048, 0u);
    for (uint32_t k : cand) ++hist[(k >> 10) & 0x7FFu];
    prefix |= find_bin(2048) << 10;
    std::fill(hist, hist + 1024, 0u);
    for (uint32_t k : cand)
        if ((k >> 10) == (prefix >> 10)) ++hist[k & 0x3FFu];
    prefix |= find_bin(1024);
    const float thr = from_order_key(prefix);
    int above = 0;
    for (int t = 0; t < nkeys; ++t) above += scores[t] > thr;
    int ties = topk - above;
    // Branch-free: each position written, kept by advancing n (a taken branch on 1 key in 8 mispredicted often).
    sel->resize(size_t(topk) + 1);
    int* out = sel->data();
    int n = 0;
    for (int t = 0; t < nkeys && n < topk; ++t) {  // n < topk: out of bounds never, whatever the scores (NaN)
        const float v = scores[t];
        const int eq = v == thr && ties > 0;
        ties -= eq;
        out[n] = t;
        n += (v > thr) | eq;
    }
    sel->resize(size_t(n));
}

namespace {

// The k indices i < n of the largest key(i), best first, equal keys by increasing index: the first k of a stable sort
// by descending key, without the sort's buffer (route_token runs per token and layer; a decode step allocates
// nothing, workspace.h). O(n k): k is 8 experts or 4 groups on V3.2. 1 <= k <= n.
template <class Key>
void top_k_stable(int n, int k, Key key, int* out) {
    int m = 0;  // out[0, m) holds the best so far
    for (int i = 0; i < n; ++i) {
        const float v = key(i);
        int p = m;
        while (p > 0 && key(out[p - 1]) < v) --p;  // strictly less: an equal key, of a lower index, stays ahead
        if (p >= k) continue;
        for (int j = std::min(m, k - 1); j > p; --j) out[j] = out[j - 1];
        out[p] = i;
        m = std::min(m + 1, k);
    }
}

}  // namespace

void route_token(const float* logits, const float* bias, int n_experts, int n_groups, int topk_groups, int n_active,
                 double route_scale, RouteScratch* r, int* experts, float* weights) {
    const int E = n_experts, G = n_groups, per = E / G;
    r->sc.resize(size_t(E));
    r->sb.resize(size_t(E));
    r->gs.resize(size_t(G));
    r->gorder.resize(size_t(topk_groups));
    r->eorder.resize(size_t(n_active));
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
    top_k_stable(G, topk_groups, [&](int g) { return r->gs[size_t(g)]; }, r->gorder.data());
    for (int i = 0; i < topk_groups; ++i) r->keep[size_t(r->gorder[size_t(i)])] = 1;
    auto key = [&](int e) { return r->keep[size_t(e / per)] ? sb[size_t(e)] : -INFINITY; };
    top_k_stable(E, n_active, key, r->eorder.data());
    double sum = 0;
    for (int i = 0; i < n_active; ++i) sum += sc[size_t(r->eorder[size_t(i)])];
    for (int i = 0; i < n_active; ++i) {
        const int e = r->eorder[size_t(i)];
        experts[i] = e;
        weights[i] = float(sc[size_t(e)] / sum * route_scale);
    }
}

}  // namespace dsv32
