// moe.cpp: dense SwiGLU MLP and the MoE layer with noaux_tc grouped routing (architecture.md §8).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"
#include "model/model.h"
#include "model/region_failure.h"
#include "model/sparse_kernels.h"
#include "model/workspace.h"

namespace dsv32 {

void Model::swiglu(const Ffn& f, const float* x, int S, float* out, int n_threads) const {
    const int I = f.w1.out;
    AlignedFloats a(size_t(S) * I), b(size_t(S) * I);  // 64-byte aligned: linear's x
    linear(f.w1, x, S, a.data(), n_threads);
    linear(f.w3, x, S, b.data(), n_threads);
    for (size_t i = 0; i < a.size(); ++i) a[i] = kernels::silu(a[i]) * b[i];
    bf16(a.data(), a.size());
    linear(f.w2, a.data(), S, out, n_threads);
}

void Model::ffn(int l, const float* x, int S, float* out) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    if (L.moe) {
        moe(l, x, S, out);
        return;
    }
    swiglu(shard(l).dense, x, S, out);  // this rank's inter columns: w1/w3 rows, w2 columns (§9)
    if (rank().mp > 1) {  // w2 is row-parallel: sum the partial outputs in f32, then bf16
        all_reduce(out, size_t(S) * size_t(cfg_.hidden_size));
        bf16(out, size_t(S) * size_t(cfg_.hidden_size));
    }
}

void Model::moe(int l, const float* x, int S, float* out) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const int E = cfg_.n_routed_experts, G = cfg_.n_group, D = cfg_.hidden_size;
    const int kg = cfg_.topk_group, ke = cfg_.num_experts_per_tok;
    const bool use_bias = !L.gate_bias.empty() && !(debug_flags_ & DEBUG_NO_GATE_BIAS);

    std::vector<float> logits(size_t(S) * E);
    linear(L.gate, x, S, logits.data());
    // Per expert: the tokens routed to it and their weights.
    std::vector<std::vector<int>> tok(static_cast<size_t>(E));
    std::vector<std::vector<float>> wt(static_cast<size_t>(E));
    RouteScratch scratch;
    std::vector<int> chosen(static_cast<size_t>(ke));
    std::vector<float> chosen_w(static_cast<size_t>(ke));
    for (int s = 0; s < S; ++s) {
        route_token(logits.data() + size_t(s) * E, use_bias ? L.gate_bias.data() : nullptr, E, G, kg, ke,
                    cfg_.routed_scaling_factor, &scratch, chosen.data(), chosen_w.data());
        for (int i = 0; i < ke; ++i) {
            tok[size_t(chosen[size_t(i)])].push_back(s);
            wt[size_t(chosen[size_t(i)])].push_back(chosen_w[size_t(i)]);
        }
    }
    // This rank's part (§9): its slice of the shared expert (w2 columns, not reduced on its own) and its whole
    // routed experts [expert0, expert1); one all-reduce below covers both.
    const RankWeights::Layer& R = shard(l);
    if (cfg_.n_shared_experts > 0) swiglu(R.shared, x, S, out);
    else std::fill(out, out + size_t(S) * D, 0.0f);
    // Routed experts. A decode batch gives each active expert only a few tokens (batch 16, 8 of 64 experts per token:
    // ~2 each), so splitting each expert's three small GEMMs across the threads costs a parallel region per GEMM and
    // little work per thread; instead the threads take whole experts, each expert computed single-threaded. An
    // expert's output does not depend on the thread count (kernels::linear computes every output row the same way)
    // and the weighted sum below stays in expert order, so the logits are bitwise those of the per-GEMM split.
    std::vector<int> active;
    std::vector<size_t> off(1, 0);
    for (int e = R.expert0; e < R.expert1; ++e) {
        if (tok[size_t(e)].empty()) continue;
        active.push_back(e);
        off.push_back(off.back() + tok[size_t(e)].size() * size_t(D));
    }
    std::vector<float> ys(off.back());
    const int na = int(active.size()), nt = threads();
    RegionFailure fail;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt > 0 ? nt : 1) if (nt > 1 && na > 1)
#endif
    for (int i = 0; i < na; ++i)
        fail.run([&] {
            const int e = active[size_t(i)];
            const std::vector<int>& ts = tok[size_t(e)];
            const int n = int(ts.size());
            AlignedFloats xin(size_t(n) * D);
            for (int j = 0; j < n; ++j) std::copy(x + size_t(ts[size_t(j)]) * D, x + size_t(ts[size_t(j)] + 1) * D, xin.data() + size_t(j) * D);
            swiglu(L.experts[size_t(e)], xin.data(), n, ys.data() + off[size_t(i)], 1);
        });
    if (fail.failed()) throw std::runtime_error("moe: layer " + std::to_string(l) + ": out of memory in the routed experts");
    for (int i = 0; i < na; ++i) {
        const int e = active[size_t(i)];
        const float* y = ys.data() + off[size_t(i)];
        for (size_t j = 0; j < tok[size_t(e)].size(); ++j) {
            float* o = out + size_t(tok[size_t(e)][j]) * D;
            const float w = wt[size_t(e)][j];
            for (int d = 0; d < D; ++d) o[d] += w * y[j * D + d];
        }
    }
    all_reduce(out, size_t(S) * D);
    bf16(out, size_t(S) * D);  // fp8 numerics: the MoE output is bf16 (the demo's y.type_as(x), after the all-reduce)
}

}  // namespace dsv32
