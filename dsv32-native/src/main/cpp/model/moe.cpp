// moe.cpp: dense SwiGLU MLP and the MoE layer with noaux_tc grouped routing (architecture.md §8).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"
#include "model/model.h"
#include "model/region_failure.h"
#include "model/sparse_kernels.h"
#include "model/workspace.h"

namespace dsv32 {

namespace {

// moe()'s lists, this thread's (workspace.h: reused from layer to layer and step to step).
struct MoeLists {
    ReusedList<std::vector<int>> tok;    // per expert: the tokens routed to it
    ReusedList<std::vector<float>> wt;   //   ... and their weights
    RouteScratch route;
    std::vector<int> chosen;
    std::vector<float> chosen_w;
    std::vector<int> active;   // the experts with tokens, in expert order
    std::vector<size_t> off;   // active[i]'s outputs: from off[i] in the MoeRouted buffer
    ReusedList<std::vector<std::pair<const float*, float>>> parts;  // per token: (expert output, weight)
};

MoeLists& moe_lists() {
    thread_local MoeLists a;
    return a;
}

}  // namespace

void Model::swiglu(const Ffn& f, const float* x, int S, float* out, int n_threads) const {
    const size_t n = size_t(S) * size_t(f.w1.out);
    // Written in full by the linears (64-byte aligned: linear's x; this thread's, workspace.h).
    float* const a = workspace(WorkSlot::FfnGate, n);
    float* const b = workspace(WorkSlot::FfnUp, n);
    linear_pair(f.w1, a, f.w3, b, x, S, n_threads);  // both read x: one call
    for (size_t i = 0; i < n; ++i) a[i] = kernels::silu(a[i]) * b[i];
    bf16(a, n);
    linear(f.w2, a, S, out, n_threads);
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

    MoeLists& ML = moe_lists();
    float* const logits = workspace(WorkSlot::MoeGate, size_t(S) * E);  // written in full by the gate
    linear(L.gate, x, S, logits);
    // Per expert: the tokens routed to it and their weights.
    ReusedList<std::vector<int>>& tok = ML.tok;
    ReusedList<std::vector<float>>& wt = ML.wt;
    tok.resize(size_t(E));
    wt.resize(size_t(E));
    for (int e = 0; e < E; ++e) {
        tok[size_t(e)].clear();
        wt[size_t(e)].clear();
    }
    std::vector<int>& chosen = ML.chosen;
    std::vector<float>& chosen_w = ML.chosen_w;
    chosen.resize(size_t(ke));
    chosen_w.resize(size_t(ke));
    for (int s = 0; s < S; ++s) {
        route_token(logits + size_t(s) * E, use_bias ? L.gate_bias.data() : nullptr, E, G, kg, ke,
                    cfg_.routed_scaling_factor, &ML.route, chosen.data(), chosen_w.data());
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
    std::vector<int>& active = ML.active;
    std::vector<size_t>& off = ML.off;
    active.clear();
    off.assign(1, 0);
    for (int e = R.expert0; e < R.expert1; ++e) {
        if (tok[size_t(e)].empty()) continue;
        active.push_back(e);
        off.push_back(off.back() + tok[size_t(e)].size() * size_t(D));
    }
    float* const ys = workspace(WorkSlot::MoeRouted, off.back());  // written in full by the experts
    // Per token: its experts' outputs in ys and their weights, in expert order (the order of its sum below).
    ReusedList<std::vector<std::pair<const float*, float>>>& parts = ML.parts;
    parts.resize(size_t(S));
    for (int s = 0; s < S; ++s) parts[size_t(s)].clear();
    for (size_t i = 0; i < active.size(); ++i) {
        const int e = active[i];
        for (size_t j = 0; j < tok[size_t(e)].size(); ++j)
            parts[size_t(tok[size_t(e)][j])].emplace_back(ys + off[i] + j * size_t(D), wt[size_t(e)][j]);
    }
    const int na = int(active.size()), nt = threads();
    // With one rank the output is final after the sum: each item rounds its own columns (fp8 numerics) too.
    const bool one_rank = rank().mp == 1;
    constexpr int COLS = 256;  // the weighted sum's items: (token, block of output columns)
    const int ncol = (D + COLS - 1) / COLS, items = S * ncol;
    RegionFailure fail;
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt > 0 ? nt : 1) if (nt > 1 && na > 1)
#endif
    {
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
        for (int i = 0; i < na; ++i)
            fail.run([&] {
                const int e = active[size_t(i)];
                const std::vector<int>& ts = tok[size_t(e)];
                const int n = int(ts.size());
                float* const xin = workspace(WorkSlot::MoeExpertX, size_t(n) * D);  // the expert's tokens (this thread's)
                for (int j = 0; j < n; ++j) std::copy(x + size_t(ts[size_t(j)]) * D, x + size_t(ts[size_t(j)] + 1) * D, xin + size_t(j) * D);
                swiglu(L.experts[size_t(e)], xin, n, ys + off[size_t(i)], 1);
            });
        // The weighted sum on both threads (the experts' barrier above): on the calling thread alone it took about
        // 0.1-0.25 ms of a batch-4 decode step on mini, reading outputs the other core had written.
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (int it = 0; it < items; ++it) {
            const int s = it / ncol, d0 = (it % ncol) * COLS, d1 = std::min(D, d0 + COLS);
            float* const o = out + size_t(s) * D;
            for (const std::pair<const float*, float>& p : parts[size_t(s)])
                for (int d = d0; d < d1; ++d) o[d] += p.second * p.first[d];
            if (one_rank) bf16(o + d0, size_t(d1 - d0));
        }
    }
    if (fail.failed()) throw std::runtime_error("moe: layer " + std::to_string(l) + ": out of memory in the routed experts");
    if (!one_rank) {
        all_reduce(out, size_t(S) * D);
        bf16(out, size_t(S) * D);  // fp8 numerics: the MoE output is bf16 (the demo's y.type_as(x), after the all-reduce)
    }
}

}  // namespace dsv32
