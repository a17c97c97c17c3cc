// ranks.cpp: model parallelism in software (architecture.md §9). The mp ranks are threads of this process: rank 0
// is the caller's thread, ranks 1.. are RankGroup's persistent threads; they share the model's worker threads
// (rank r gets n_threads / mp of them, at least one) and meet in a CpuCollective.
//
// Each rank runs the whole forward pass on its weight slices (model/shard.cpp): its heads in MLA, its inter columns
// in the dense MLP and the shared expert, its own routed experts, its vocab rows of the embedding and the head, with
// the demo's reduction points: all-reduce after the embedding, after wo, after the MLP / MoE (routed and shared
// together), and the head's all-gather. The replicated work (wq_a, wkv_a, norms, the indexer, the gate) is computed
// by every rank, as in the demo, with bit-identical results.
//
// KV cache: the demo keeps a full copy on every rank (§6.3: wkv_a and the indexer are replicated). Here the ranks
// share the one paged cache (KvCache, its blocks reserved before the step): rank 0 writes the rows all ranks
// computed identically, and a barrier makes them visible before anyone reads them (mla.cpp, indexer.cpp).
#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "checkpoint/safetensors.h"
#include "model/model.h"
#include "model/weight_arena.h"

namespace dsv32 {

namespace {

thread_local const RankCtx* t_rank = nullptr;

// Sets this thread's rank for a scope (restores the previous one: nested models on one thread stay correct).
class RankScope {
public:
    explicit RankScope(const RankCtx* r) : prev_(t_rank) { t_rank = r; }
    ~RankScope() { t_rank = prev_; }
    RankScope(const RankScope&) = delete;
    RankScope& operator=(const RankScope&) = delete;

private:
    const RankCtx* prev_;
};

}  // namespace

void Model::init_ranks(int mp, const Progress& progress) {
    if (mp < 1) mp = 1;
    if (ranks_.empty()) ranks_ = shard_weights(cfg_, w_, mp, progress);  // validates: throws ShardError naming the field or tensor
    mp_ = mp;
    rank_ctx_.resize(size_t(mp));
    if (mp > 1) {
        coll_ = std::make_unique<CpuCollective>(mp);
        group_ = std::make_unique<RankGroup>(mp);
    }
    for (int r = 0; r < mp; ++r) {
        RankCtx& c = rank_ctx_[size_t(r)];
        c.rank = r;
        c.mp = mp;
        c.n_threads = std::max(1, n_threads_ / mp + (r < n_threads_ % mp ? 1 : 0));
        c.coll = coll_.get();
        c.w = &ranks_[size_t(r)];
    }
    // The head in row panels (kernels/panels.h): in its stored layout a decode batch re-reads x for every row of W (mini's
    // f32 batch-4 decode step: 34.4-37.0 -> 29.3-29.8 ms with the panels). Packed once here, on the AVX-512 and AVX2
    // paths (on AVX2 since 2026-12-05: its fp8 batch-4 step had spent a third of its time in the head); the stored head
    // stays for the scalar path (DSV32_KERNELS) and is no longer read on these.
    //
    // The W_UK bands of wkv_b in pair tiles, where the CPU has the AVX512-BF16 kernel that reads them (mla.cpp, step 1
    // of the absorbed decode) and the model opens in fp8 numerics (the kernel needs bf16 x; f32 numerics never read
    // them). In wkv_b's own layout a head's band lies between two W_UV bands and the transposed product reads it in
    // 64-column strips: one core read such bands at about 10 GB/s (f32 kernel or a bf16 one alike); tiled, a band is one
    // sequential stream.
    //
    // The other matrices a decode step streams, copied into huge-page memory (weight_arena.h), with DSV32_WEIGHT_ARENA
    // unset or not "0".
    //
    // Each copy is skipped when it does not fit (the stored weights serve). Progress: the "pack" stage, in bytes of the
    // weights repacked or copied (a few seconds on V3.2's 1.85 GB head); none when nothing is.
    auto env_off = [](const char* name) {  // the variable set to "0"
        const char* v = std::getenv(name);
        return v && std::string(v) == "0";
    };
    const bool want_panels = (kernels::kernel_path_supported(kernels::KernelPath::Avx512) ||
                              kernels::kernel_path_supported(kernels::KernelPath::Avx2)) &&
                             !env_off("DSV32_HEAD_PANELS");
    const bool want_tiles = fp8_ && kernels::kernel_path_supported(kernels::KernelPath::Avx512) && kernels::bf16_dot_supported();
    const int dn = cfg_.qk_nope_head_dim, kvw = cfg_.qk_nope_head_dim + cfg_.v_head_dim;
    auto head_bytes = [&](int r) -> int64_t {
        const kernels::WeightMat h = ranks_[size_t(r)].head.mat();
        return want_panels && kernels::panels_layout_ok(h) ? int64_t(h.out) * h.in * 2 : 0;
    };
    auto band_bytes = [&](const RankWeights::Layer& L) -> int64_t {
        const kernels::WeightMat w = L.wkv_b.mat();
        const int heads = kvw > 0 ? w.out / kvw : 0;
        return want_tiles && heads > 0 && kernels::pair_tiles_ok(w, 0, kvw, heads, dn) ? int64_t(heads) * dn * w.in : 0;
    };
    // Every Linear of the layers, the ranks' views included (the arena merges a tensor and its views into one range).
    std::vector<Linear*> layer_linears;
    auto add_ffn = [&](Ffn& f) { layer_linears.insert(layer_linears.end(), {&f.w1, &f.w2, &f.w3}); };
    for (LayerWeights& L : w_.layers) {
        layer_linears.insert(layer_linears.end(), {&L.wq_a, &L.wq_b, &L.wkv_a, &L.wkv_b, &L.wo});
        layer_linears.insert(layer_linears.end(), {&L.idx_wq_b, &L.idx_wk, &L.idx_wproj, &L.gate});
        add_ffn(L.dense);
        add_ffn(L.shared);
        for (Ffn& e : L.experts) add_ffn(e);
    }
    for (RankWeights& R : ranks_)
        for (RankWeights::Layer& L : R.layers) {
            layer_linears.insert(layer_linears.end(), {&L.wq_b, &L.wkv_b, &L.wo});
            add_ffn(L.dense);
            add_ffn(L.shared);
        }
    WeightArena arena;
    if (!env_off("DSV32_WEIGHT_ARENA"))
        for (const Linear* q : layer_linears) arena.add(*q);
    const bool arena_fits = arena.bytes() > 0 && weight_arena_fits(arena.bytes());
    int64_t total = arena_fits ? int64_t(arena.bytes()) : 0, done = 0;
    for (int r = 0; r < mp; ++r) {
        total += head_bytes(r);
        for (const RankWeights::Layer& L : ranks_[size_t(r)].layers) total += band_bytes(L);
    }
    auto packed = [&](int64_t bytes) {  // one call per head and per layer; the last reaches total
        done += bytes;
        if (progress && total > 0 && (bytes > 0 || done == 0)) progress("pack", done, total);
    };
    packed(0);
    head_panels_.clear();
    head_panels_.resize(size_t(mp));
    bool panels_fit = true;
    for (int r = 0; r < mp; ++r) {
        const int64_t bytes = head_bytes(r);
        if (bytes > 0 && panels_fit) {
            try {
                head_panels_[size_t(r)] = kernels::pack_panels(ranks_[size_t(r)].head.mat(), n_threads_);
            } catch (const std::bad_alloc&) {  // no room for the copy: the stored heads serve, slower at batch > 1
                head_panels_.clear();
                head_panels_.resize(size_t(mp));
                panels_fit = false;
            }
        }
        packed(bytes);
    }
    wuk_tiles_.clear();
    wuk_tiles_.resize(size_t(mp));
    for (int r = 0; r < mp; ++r)
        for (const RankWeights::Layer& L : ranks_[size_t(r)].layers) {
            const int64_t bytes = band_bytes(L);
            kernels::Fp8PairTiles t;
            if (bytes > 0) {
                const kernels::WeightMat w = L.wkv_b.mat();
                try {
                    t = kernels::pack_pair_tiles(w, 0, kvw, w.out / kvw, dn, n_threads_);
                } catch (const std::bad_alloc&) {  // empty tiles: this layer reads the stored bands
                }
            }
            wuk_tiles_[size_t(r)].push_back(std::move(t));
            packed(bytes);
        }
    // Bytes of the checkpoint's mappings this path does not read again go back (SafetensorsSet::release); another
    // kernel path would fault them in from the file.
    auto release = [&](const void* p, size_t n) {
        if (st_) st_->release(p, n);
        for (const auto& f : rank_files_) f->release(p, n);
    };
    // Packing read the stored head into memory (265 MB of resident memory on mini).
    for (int r = 0; r < mp; ++r)
        if (!head_panels_[size_t(r)].empty()) release(ranks_[size_t(r)].head.raw, ranks_[size_t(r)].head.view_bytes());
    if (arena_fits && arena.allocate()) {
        // The mapped pages each batch read go back as it ends (nothing reads them before the Linears are repointed
        // below), so the resident memory stays about what the mapping's would have been. About 32 progress calls.
        arena.copy(n_threads_, 32, release, [&](size_t bytes) { packed(int64_t(bytes)); });
        for (Linear* q : layer_linears) arena.repoint(q);
        weight_arena_ = std::move(arena);
    } else if (arena_fits) {
        packed(int64_t(arena.bytes()));  // no room after all: the mapping serves
    }
}

void Model::head_linear(const float* x, int S, float* y, kernels::XValues xv) const {
    const RankCtx& r = rank();
    const kernels::Bf16Panels& p = head_panels_[size_t(r.rank)];
    const kernels::KernelPath path = kernels::kernel_path();
    if (!p.empty() && (path == kernels::KernelPath::Avx512 || path == kernels::KernelPath::Avx2))
        kernels::linear_panels(x, p, y, S, r.n_threads, xv);
    else kernels::linear(x, r.w->head.mat(), y, S, r.n_threads, xv);
}

const RankCtx& Model::rank() const {
    if (!t_rank) throw std::logic_error("dsv32::Model: a forward-pass function ran outside Model::forward (no rank context)");
    return *t_rank;
}

void Model::all_reduce(float* x, size_t n) const {
    const RankCtx& r = rank();
    if (r.mp > 1) r.coll->all_reduce_sum(r.rank, x, n);
}

void Model::rank_barrier() const {
    const RankCtx& r = rank();
    if (r.mp > 1) r.coll->barrier(r.rank);
}

void Model::forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) const {
    thread_local std::vector<Segment> segs;  // reused from step to step (workspace.h)
    segs.clear();
    int rows = 0;
    for (const StepEntry& e : entries) {
        if (!cache.is_open(e.seq) || e.n <= 0 || !e.tokens) throw std::invalid_argument("Model::forward: bad entry");
        if (cache.blocks_needed(e.seq, e.n) != 0) throw std::logic_error("Model::forward: cache blocks not reserved");
        segs.push_back(Segment{e.seq, rows, e.n, cache.len(e.seq)});
        rows += e.n;
    }
    const Step st{&cache, &entries, segs, rows};
    if (mp_ == 1) {
        RankScope scope(&rank_ctx_[0]);
        forward_rank(st, logits, last_only);
    } else {
        // Every rank reads the same step; only rank 0 writes the logits and the cache rows.
        struct Reset {  // the collective is usable again after a failed step
            CpuCollective* c;
            ~Reset() { c->reset(); }
        } reset{coll_.get()};
        // The job captures one reference, so that its std::function holds it in place (no allocation; workspace.h).
        const struct {
            const Model* m;
            const Step* st;
            float* logits;
            bool last_only;
        } job{this, &st, logits, last_only};
        group_->run(
            [&job](int r) {
                RankScope scope(&job.m->rank_ctx_[size_t(r)]);
                job.m->forward_rank(*job.st, r == 0 ? job.logits : nullptr, job.last_only);
            },
            [this] { coll_->abort(); });
    }
}

}  // namespace dsv32
