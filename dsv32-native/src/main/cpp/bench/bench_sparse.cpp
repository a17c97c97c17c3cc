// bench_sparse.cpp: micro-benchmark entry points of dsv32_bench.h for the engine's sparse parts on synthetic data:
// the DSA indexer of one decode row (scores + top-k, model/indexer.cpp's split), the absorbed sparse attention of one
// decode token over its selected keys (model/mla.cpp), and an MoE layer (router + experts, model/moe.cpp). They run
// the engine's own code (kernels/attention.h, model/sparse_kernels.h, kernels::linear) in f32 numerics, on data kept
// between calls of the same shape (bench_util.h cached_fixture).
#include "../../jni/dsv32_bench.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/attention.h"
#include "model/sparse_kernels.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace {

using namespace dsv32::bench;
namespace kernels = dsv32::kernels;

// Row pointers of n contiguous rows of width w: what the engine gathers from its paged cache (KvCache::View).
std::vector<const float*> row_ptrs(const float* base, int n, int w) {
    std::vector<const float*> r(static_cast<size_t>(n));
    for (int t = 0; t < n; ++t) r[size_t(t)] = base + size_t(t) * size_t(w);
    return r;
}

// The MLA widths every DeepSeek-V3.2 config shares (architecture.md §1.1, §17): latent 512, RoPE 64.
constexpr int KV_LORA_RANK = 512, ROPE_DIM = 64;

// A SwiGLU expert with FP8 weights: w2(silu(w1 x) * w3 x) (Model::swiglu in f32 numerics).
struct Expert {
    std::vector<uint8_t> c1, c2, c3;
    std::vector<float> s1, s2, s3;
    kernels::WeightMat w1, w2, w3;
    void init(int dim, int inter, std::mt19937& rng) {
        w1 = random_fp8(inter, dim, rng, &c1, &s1);
        w3 = random_fp8(inter, dim, rng, &c3, &s3);
        w2 = random_fp8(dim, inter, rng, &c2, &s2);
    }
    void run(const float* x, int rows, float* out, int n_threads) const {
        std::vector<float> a(size_t(rows) * size_t(w1.out)), b(a.size());
        kernels::linear(x, w1, a.data(), rows, n_threads);
        kernels::linear(x, w3, b.data(), rows, n_threads);
        for (size_t i = 0; i < a.size(); ++i) a[i] = kernels::silu(a[i]) * b[i];
        kernels::linear(a.data(), w2, out, rows, n_threads);
    }
};

}  // namespace

extern "C" int dsv32_bench_indexer(int32_t n_heads, int32_t head_dim, int32_t n_keys, int32_t topk, int32_t n_threads,
                                   int32_t iters, double* seconds_per_call) {
    const std::string where = "dsv32_bench_indexer: ";
    if (!seconds_per_call) return fail(where + "seconds_per_call is NULL");
    std::string e = range_error(where, "n_heads", n_heads, 1, 256);
    if (e.empty()) e = range_error(where, "head_dim", head_dim, 1, 1024);
    if (e.empty()) e = range_error(where, "n_keys", n_keys, 1, 1 << 20);
    if (e.empty()) e = range_error(where, "topk", topk, 1, 1 << 20);
    if (e.empty() && int64_t(n_keys) * head_dim > (int64_t(1) << 28))
        e = where + "n_keys * head_dim must be at most 2^28 floats, got " + std::to_string(n_keys) + " x " + std::to_string(head_dim);
    if (e.empty() && n_threads < 0) e = where + "n_threads must be >= 0, got " + std::to_string(n_threads);
    if (e.empty() && iters < 1) e = where + "iters must be >= 1, got " + std::to_string(iters);
    if (!e.empty()) return fail(e);
    const int t = threads_or_cores(n_threads);
    struct Fixture {
        std::vector<float> q, w, keys, score;
        std::vector<int> sel;
    };
    auto [fx, fresh] = cached_fixture<Fixture>({n_heads, head_dim, n_keys}, [&] {
        auto f = std::make_shared<Fixture>();
        std::mt19937 rng(42);
        f->q.resize(size_t(n_heads) * size_t(head_dim));
        f->w.resize(static_cast<size_t>(n_heads));
        f->keys.resize(size_t(n_keys) * size_t(head_dim));
        f->score.resize(static_cast<size_t>(n_keys));
        fill_uniform(f->q, rng, 1.0f);
        fill_uniform(f->w, rng, 0.1f);
        fill_uniform(f->keys, rng, 1.0f);
        return f;
    });
    Fixture& d = *fx;
    const std::vector<const float*> keys = row_ptrs(d.keys.data(), n_keys, head_dim);
    constexpr int CHUNK = 256;  // model/indexer.cpp: one work item = (up to 16 rows, 256 keys)
    const int n_chunks = (n_keys + CHUNK - 1) / CHUNK;
    *seconds_per_call = best_seconds(iters, [&] {
        if (n_keys <= topk) {  // every key is selected: the engine computes no scores
            d.sel.resize(static_cast<size_t>(n_keys));
            for (int k = 0; k < n_keys; ++k) d.sel[size_t(k)] = k;
            return;
        }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(t) if (n_chunks > 1)
#endif
        for (int c = 0; c < n_chunks; ++c) {
            const int t0 = c * CHUNK, lim = n_keys - t0;
            const float* q = d.q.data();
            const float* w = d.w.data();
            float* out = d.score.data() + t0;
            kernels::index_scores(&q, &w, &out, &lim, 1, n_heads, head_dim, keys.data() + t0, std::min(CHUNK, lim));
        }
        dsv32::select_topk(d.score.data(), n_keys, topk, &d.sel);
    }, fresh);
    (void)t;
    volatile int keep = d.sel.empty() ? 0 : d.sel[0];
    (void)keep;
    return DSV32_OK;
}

extern "C" int dsv32_bench_sparse_attention(int32_t n_heads, int32_t n_keys, int32_t topk, int32_t n_threads,
                                            int32_t iters, double* seconds_per_call) {
    const std::string where = "dsv32_bench_sparse_attention: ";
    if (!seconds_per_call) return fail(where + "seconds_per_call is NULL");
    std::string e = range_error(where, "n_heads", n_heads, 1, 256);
    if (e.empty()) e = range_error(where, "n_keys", n_keys, 1, 1 << 19);  // 2^19 x 576 floats = 1.2 GB at most
    if (e.empty()) e = range_error(where, "topk", topk, 1, 1 << 19);
    if (e.empty() && n_threads < 0) e = where + "n_threads must be >= 0, got " + std::to_string(n_threads);
    if (e.empty() && iters < 1) e = where + "iters must be >= 1, got " + std::to_string(iters);
    if (!e.empty()) return fail(e);
    const int t = threads_or_cores(n_threads);
    const int kvr = KV_LORA_RANK, dr = ROPE_DIM;
    struct Fixture {
        std::vector<float> lat, pe, qlat, qpe, olat;
        std::vector<int> keys;
    };
    auto [fx, fresh] = cached_fixture<Fixture>({n_heads, n_keys, topk}, [&] {
        auto f = std::make_shared<Fixture>();
        std::mt19937 rng(43);
        f->lat.resize(size_t(n_keys) * kvr);
        f->pe.resize(size_t(n_keys) * dr);
        f->qlat.resize(size_t(n_heads) * kvr);
        f->qpe.resize(size_t(n_heads) * dr);
        f->olat.resize(size_t(n_heads) * kvr);
        fill_uniform(f->lat, rng, 1.0f);
        fill_uniform(f->pe, rng, 1.0f);
        fill_uniform(f->qlat, rng, 0.05f);
        fill_uniform(f->qpe, rng, 0.05f);
        // The selection: min(topk, n_keys) distinct keys, ascending (as the indexer hands them over).
        f->keys.resize(static_cast<size_t>(n_keys));
        for (int k = 0; k < n_keys; ++k) f->keys[size_t(k)] = k;
        std::shuffle(f->keys.begin(), f->keys.end(), rng);
        f->keys.resize(size_t(std::min(topk, n_keys)));
        std::sort(f->keys.begin(), f->keys.end());
        return f;
    });
    Fixture& d = *fx;
    std::vector<const float*> lat, pe;
    for (int k : d.keys) {
        lat.push_back(d.lat.data() + size_t(k) * kvr);
        pe.push_back(d.pe.data() + size_t(k) * dr);
    }
    const float scale = 0.1352338f;  // the 671B / mini softmax scale (§1.1)
    // model/mla.cpp: the decode heads in groups of up to 8 (about one group per thread), each group one mla_decode.
    const int G = std::max(1, std::min(8, (n_heads + t - 1) / t)), groups = (n_heads + G - 1) / G;
    const int ns = int(d.keys.size());
    *seconds_per_call = best_seconds(iters, [&] {
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(t) if (groups > 1)
#endif
        for (int gi = 0; gi < groups; ++gi) {
            const int h0 = gi * G, g = std::min(n_heads, h0 + G) - h0;
            std::vector<float> p(size_t(g) * size_t(ns));
            kernels::mla_decode(d.qlat.data() + size_t(h0) * kvr, d.qpe.data() + size_t(h0) * dr, g, kvr, dr, lat.data(),
                                pe.data(), ns, scale, d.olat.data() + size_t(h0) * kvr, p.data());
        }
    }, fresh);
    (void)t;
    volatile float keep = d.olat[0];
    (void)keep;
    return DSV32_OK;
}

extern "C" int dsv32_bench_moe(int32_t m, int32_t dim, int32_t n_experts, int32_t n_groups, int32_t topk_groups,
                               int32_t n_active, int32_t inter, int32_t n_threads, int32_t iters,
                               double* seconds_per_call) {
    const std::string where = "dsv32_bench_moe: ";
    if (!seconds_per_call) return fail(where + "seconds_per_call is NULL");
    std::string e = range_error(where, "m", m, 1, 4096);
    if (e.empty()) e = range_error(where, "dim", dim, 1, 16384);
    if (e.empty()) e = range_error(where, "n_experts", n_experts, 1, 1024);
    if (e.empty()) e = range_error(where, "n_groups", n_groups, 1, n_experts);
    if (e.empty() && n_experts % n_groups != 0)
        e = where + "n_groups must divide n_experts, got " + std::to_string(n_experts) + " experts in " +
            std::to_string(n_groups) + " groups";
    if (e.empty()) e = range_error(where, "topk_groups", topk_groups, 1, n_groups);
    if (e.empty()) e = range_error(where, "n_active", n_active, 1, int64_t(topk_groups) * (n_experts / n_groups));
    if (e.empty()) e = range_error(where, "inter", inter, 1, 65536);
    if (e.empty() && int64_t(n_experts + 1) * 3 * dim * inter > (int64_t(1) << 31))
        e = where + "(n_experts + 1) * 3 * dim * inter must be at most 2^31 weight bytes, got " +
            std::to_string(int64_t(n_experts + 1) * 3 * dim * inter);
    if (e.empty() && n_threads < 0) e = where + "n_threads must be >= 0, got " + std::to_string(n_threads);
    if (e.empty() && iters < 1) e = where + "iters must be >= 1, got " + std::to_string(iters);
    if (!e.empty()) return fail(e);
    const int t = threads_or_cores(n_threads);
    struct Fixture {
        std::vector<uint16_t> gate16;
        kernels::WeightMat gate;
        std::vector<float> bias, x, out, logits;
        std::vector<Expert> experts;
        Expert shared;
    };
    auto [fx, fresh] = cached_fixture<Fixture>({m, dim, n_experts, n_groups, topk_groups, n_active, inter}, [&] {
        auto f = std::make_shared<Fixture>();
        std::mt19937 rng(44);
        // Gate: bf16 [n_experts, dim] with an f32 bias (the checkpoint's formats, §2.1); experts and shared expert FP8.
        f->gate16.resize(size_t(n_experts) * size_t(dim));
        std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(float(dim)));
        for (uint16_t& g : f->gate16) g = kernels::f32_to_bf16(nd(rng));
        f->gate.type = kernels::WType::BF16;
        f->gate.out = n_experts;
        f->gate.in = dim;
        f->gate.data = f->gate16.data();
        f->bias.resize(static_cast<size_t>(n_experts));
        f->x.resize(size_t(m) * size_t(dim));
        fill_uniform(f->bias, rng, 0.05f);
        fill_uniform(f->x, rng, 1.0f);
        f->experts.resize(static_cast<size_t>(n_experts));
        for (Expert& ex : f->experts) ex.init(dim, inter, rng);
        f->shared.init(dim, inter, rng);
        f->out.resize(size_t(m) * size_t(dim));
        f->logits.resize(size_t(m) * size_t(n_experts));
        return f;
    });
    Fixture& d = *fx;
    const kernels::WeightMat& gate = d.gate;
    const std::vector<float>& bias = d.bias;
    const std::vector<float>& x = d.x;
    std::vector<float>& out = d.out;
    std::vector<float>& logits = d.logits;
    const std::vector<Expert>& experts = d.experts;
    const Expert& shared = d.shared;
    *seconds_per_call = best_seconds(iters, [&] {
        // Router (model/moe.cpp): gate logits, then each token's experts and weights.
        kernels::linear(x.data(), gate, logits.data(), m, t);
        std::vector<std::vector<int>> tok(static_cast<size_t>(n_experts));
        std::vector<std::vector<float>> wt(static_cast<size_t>(n_experts));
        dsv32::RouteScratch scratch;
        std::vector<int> chosen(static_cast<size_t>(n_active));
        std::vector<float> chosen_w(static_cast<size_t>(n_active));
        for (int s = 0; s < m; ++s) {
            dsv32::route_token(logits.data() + size_t(s) * n_experts, bias.data(), n_experts, n_groups, topk_groups,
                               n_active, 2.5, &scratch, chosen.data(), chosen_w.data());
            for (int i = 0; i < n_active; ++i) {
                tok[size_t(chosen[size_t(i)])].push_back(s);
                wt[size_t(chosen[size_t(i)])].push_back(chosen_w[size_t(i)]);
            }
        }
        // Shared expert over every row; routed experts one per thread, each single-threaded (model/moe.cpp's split).
        shared.run(x.data(), m, out.data(), t);
        std::vector<int> active;
        std::vector<size_t> off(1, 0);
        for (int ex = 0; ex < n_experts; ++ex) {
            if (tok[size_t(ex)].empty()) continue;
            active.push_back(ex);
            off.push_back(off.back() + tok[size_t(ex)].size() * size_t(dim));
        }
        std::vector<float> ys(off.back());
        const int na = int(active.size());
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(t) if (t > 1 && na > 1)
#endif
        for (int i = 0; i < na; ++i) {
            const std::vector<int>& ts = tok[size_t(active[size_t(i)])];
            std::vector<float> xin(ts.size() * size_t(dim));
            for (size_t j = 0; j < ts.size(); ++j)
                std::copy_n(x.data() + size_t(ts[j]) * size_t(dim), dim, xin.data() + j * size_t(dim));
            experts[size_t(active[size_t(i)])].run(xin.data(), int(ts.size()), ys.data() + off[size_t(i)], 1);
        }
        for (int i = 0; i < na; ++i) {
            const int ex = active[size_t(i)];
            const float* y = ys.data() + off[size_t(i)];
            for (size_t j = 0; j < tok[size_t(ex)].size(); ++j)
                kernels::axpy(wt[size_t(ex)][j], y + j * size_t(dim), out.data() + size_t(tok[size_t(ex)][j]) * size_t(dim), dim);
        }
    }, fresh);
    volatile float keep = out[0];
    (void)keep;
    return DSV32_OK;
}
