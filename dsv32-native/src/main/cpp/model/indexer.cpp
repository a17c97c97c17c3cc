// indexer.cpp: the DSA lightning indexer in f32 numerics (architecture.md §7).
// I(s,t) = sum_h w_h * n_heads^-0.5 * d^-0.5 * ReLU(q_h(s) . k(t)), q and k after RoPE (non-interleaved, first 64
// dims) and Hadamard-128; top-k = min(index_topk, causal keys), ties -> the lower key position.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/region_failure.h"
#include "model/sparse_kernels.h"
#include "model/workspace.h"

namespace dsv32 {

namespace {

// A work item of the scores: rows [r0, r1) (one entry, consecutive positions), keys [t0, t1).
struct IndexItem {
    int r0, r1, t0, t1;
};
// A run of scored rows of one entry, and the keys its last (longest) row needs.
struct IndexRun {
    int r0, r1, maxkeys;
};

// indexer()'s lists, this thread's (workspace.h: reused from layer to layer and step to step).
struct IndexerLists {
    std::vector<int> pos_of, seg_of;  // each row's position and entry
    std::vector<int> qrow, scored;    // each row's index among the scored rows (or -1); the scored rows
    std::vector<size_t> soff;         // a scored row's first score in the group's buffer
    std::vector<IndexItem> items;
    std::vector<IndexRun> runs;
};

IndexerLists& indexer_lists() {
    thread_local IndexerLists a;
    return a;
}

}  // namespace

void Model::indexer(int l, const float* x, const float* qr, const Step& st, const ReusedList<KvCache::View>& c,
                    ReusedList<std::vector<int>>* selected) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const int nh = cfg_.index_n_heads, hd = cfg_.index_head_dim;
    const bool inter = cfg_.indexer_rope_interleaved != bool(debug_flags_ & DEBUG_INDEXER_ROPE_INTERLEAVED);
    const int S = st.rows;  // the projections run once over all rows of the step
    const bool writer = rank().rank == 0;
    // fp8 numerics: q8 / k8 are act_quant's e4m3 * 2^e (bf16 values); the keys are cached as packed bf16.
    const bool idx_bf16 = fp8_ && hd % 128 == 0;

    IndexerLists& I = indexer_lists();
    std::vector<int>& pos_of = I.pos_of;
    std::vector<int>& seg_of = I.seg_of;
    pos_of.resize(size_t(S));
    seg_of.resize(size_t(S));
    for (size_t i = 0; i < st.segs.size(); ++i)
        for (int s = st.segs[i].row0; s < st.segs[i].row0 + st.segs[i].n; ++s) {
            pos_of[size_t(s)] = st.segs[i].start + (s - st.segs[i].row0);
            seg_of[size_t(s)] = int(i);
        }
    // DEBUG_DENSE_ATTENTION: every row keeps all its causal keys (no scores computed), i.e. dense MLA attention (§7
    // with top-k >= context); identical to DSA while nkeys <= index_topk.
    const int topk = (debug_flags_ & DEBUG_DENSE_ATTENTION) ? std::numeric_limits<int>::max() : cfg_.index_topk;
    // Only a row with more causal keys than top-k is scored (its selection is otherwise every key): the query side of
    // the indexer (wq_b, weights_proj, the heads' RoPE / Hadamard / quantisation) runs on those rows only, qrow[s] the
    // row's index among them or -1. A prompt within top-k keys (2048 on V3.2, 512 on mini) computes no index query at
    // all: on mini that is about a sixth of a short prefill's FLOPs. The key side runs on every row (the cache needs
    // it). linear's rows do not depend on which rows are batched with them, so the scores are bitwise unchanged.
    std::vector<int>& qrow = I.qrow;
    std::vector<int>& scored = I.scored;
    qrow.assign(size_t(S), -1);
    scored.clear();
    for (int s = 0; s < S; ++s)
        if (pos_of[size_t(s)] + 1 > topk) {
            qrow[size_t(s)] = int(scored.size());
            scored.push_back(s);
        }
    const int SQ = int(scored.size());
    // Written in full by the linears and the norm below (workspace.h).
    float* const k = workspace(WorkSlot::IndexerK, size_t(S) * hd);
    float* const kraw = workspace(WorkSlot::IndexerKRaw, size_t(S) * hd);
    float* const wts = workspace(WorkSlot::IndexerWts, size_t(SQ) * nh);
    float* const q = workspace(WorkSlot::IndexerQ, size_t(SQ) * nh * hd);  // [SQ, nh * hd]: written by the linear below
    if (SQ == S) {
        linear(L.idx_wq_b, qr, S, q);
        linear(L.idx_wproj, x, S, wts);
    } else if (SQ > 0) {  // the scored rows of qr and x, stacked (a prefill chunk crossing top-k: its tail)
        const int qlr = cfg_.q_lora_rank, D = cfg_.hidden_size;
        AlignedFloats qs(size_t(SQ) * qlr), xs(size_t(SQ) * D);  // 64-byte aligned: linear's x
        for (int j = 0; j < SQ; ++j) {
            std::copy_n(qr + size_t(scored[size_t(j)]) * qlr, qlr, qs.data() + size_t(j) * qlr);
            std::copy_n(x + size_t(scored[size_t(j)]) * D, D, xs.data() + size_t(j) * D);
        }
        linear(L.idx_wq_b, qs.data(), SQ, q);
        linear(L.idx_wproj, xs.data(), SQ, wts);
    }
    linear(L.idx_wk, x, S, kraw);
    kernels::layernorm(kraw, L.idx_knorm_w.data(), L.idx_knorm_b.data(), k, S, hd, float(cfg_.rms_norm_eps));
    const float wscale = float(1.0 / std::sqrt(double(nh)) / std::sqrt(double(hd)));
    for (size_t i = 0; i < size_t(SQ) * nh; ++i) wts[i] *= wscale;
    // Per row: RoPE, Hadamard (and in fp8 numerics the bf16 rounding and act_quant round trip) of its nh query heads (a
    // scored row) and of its key, the key written to the entry's cache row (§7 k_cache; replicated on every rank: the
    // ranks share the cache, rank 0 writes). Every head and key is independent (act_quant's block is one head), so the
    // items -- a (scored row, head) or a row's key -- are split over the threads; a prefill chunk has up to S * 65.
    const int dim = rope_.dim;
    float* const cs = workspace(WorkSlot::IndexerRope, size_t(S) * size_t(dim));  // each row's RoPE cos / sin (Rope::table)
    const int prep_items = SQ * nh + S;
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads()) if (prep_items >= 64)
#endif
    {
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (int s = 0; s < S; ++s) rope_.table(pos_of[size_t(s)], cs + size_t(s) * dim);
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (int it = 0; it < prep_items; ++it) {
            const bool is_q = it < SQ * nh;  // the scored rows' query heads, then every row's key
            const int s = is_q ? scored[size_t(it / nh)] : it - SQ * nh;
            const float* cst = cs + size_t(s) * dim;
            float* v = is_q ? q + size_t(it) * hd : k + size_t(s) * hd;  // q: [SQ][nh][hd], item it = j * nh + h
            rope_.apply(v, cst, inter);
            kernels::hadamard128(v);
            if (idx_bf16) {  // q8 / k8 = act_quant of the bf16 rotated q, k: score with their exact values
                bf16(v, size_t(hd));
                kernels::act_quant_roundtrip(v, 1, hd, true);
            }
            if (!is_q && writer) {  // fp8 numerics: k8's values are bf16, cached as packed bf16 (half the bytes)
                float* row = c[size_t(seg_of[size_t(s)])].idx_k(pos_of[size_t(s)]);
                if (idx_bf16) kernels::pack_bf16(v, hd, reinterpret_cast<uint16_t*>(row));
                else std::copy_n(v, hd, row);
            }
        }
    }
    rank_barrier();  // every rank reads the keys from here

    // Scores I(s, t) of every row against its own entry's keys 0..pos (causal), for rows with more keys than top-k
    // (kernels::index_scores). Rows go in groups of at most ~4M scores (bounded memory for long prefill chunks); within
    // a group the work is split into (entry, 256-key chunk, up to 16 rows) items (a lone row: longer chunks, below), so
    // that a single decode row uses every thread and a prefill chunk reads each key once per 16 rows. Each score is
    // computed the same way whatever the split. A group's scores lie row after row in one buffer (IndexerScores).
    selected->resize(size_t(S));
    constexpr int CHUNK = 256, ROWS = 16;
    constexpr size_t GROUP_SCORES = size_t(1) << 22;
    std::vector<size_t>& soff = I.soff;
    soff.resize(size_t(S));
    auto has_scores = [&](int s) { return qrow[size_t(s)] >= 0; };  // more causal keys than top-k
    // A lone row (a decode token) takes longer key chunks, up to MAX_CHUNK, about 4 items a thread: each item sets up
    // its queries once (1.6 us for 64 heads), 12 % of a 256-key item's time.
    constexpr int MAX_CHUNK = 1024;
    const int nt = std::max(1, threads());
    std::vector<IndexItem>& items = I.items;
    for (int s0 = 0; s0 < S;) {
        int s1 = s0;
        size_t group = 0;
        items.clear();
        for (; s1 < S && (s1 == s0 || group + size_t(pos_of[size_t(s1)]) + 1 <= GROUP_SCORES); ++s1) {
            const int nkeys = pos_of[size_t(s1)] + 1;
            if (nkeys <= topk) continue;
            soff[size_t(s1)] = group;
            group += size_t(nkeys);
        }
        float* const score = workspace(WorkSlot::IndexerScores, group);  // written in full by the items below
        // Items: runs of up to ROWS scored rows of one entry, times the key chunks the run's last (longest) row needs.
        // Lone rows (decode tokens, one per entry) share the ~4 items a thread: a batch of 4 decode rows at context 1024
        // takes 512-key chunks, not 4 x 4 of 256 (each item sets up its 64 query heads once): mini's fp8 batch-4 step
        // 0.07-0.37 ms shorter (three runs of 40 rounds, alternating within one process), batch 1 unchanged.
        std::vector<IndexRun>& runs = I.runs;
        runs.clear();
        int lone = 0;
        for (int r0 = s0; r0 < s1;) {
            if (!has_scores(r0)) {
                ++r0;
                continue;
            }
            int r1 = r0 + 1;
            while (r1 < s1 && r1 - r0 < ROWS && seg_of[size_t(r1)] == seg_of[size_t(r0)] && has_scores(r1)) ++r1;
            int maxkeys = 0;
            for (int r = r0; r < r1; ++r) maxkeys = std::max(maxkeys, pos_of[size_t(r)] + 1);
            runs.push_back({r0, r1, maxkeys});
            lone += r1 - r0 == 1;
            r0 = r1;
        }
        for (const IndexRun& run : runs) {
            const int chunk = run.r1 - run.r0 > 1
                                  ? CHUNK
                                  : std::min(MAX_CHUNK, std::max(CHUNK, (run.maxkeys * lone / (4 * nt) + CHUNK - 1) / CHUNK * CHUNK));
            for (int t0 = 0; t0 < run.maxkeys; t0 += chunk) items.push_back({run.r0, run.r1, t0, std::min(run.maxkeys, t0 + chunk)});
        }
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads()) if (items.size() > 1)
#endif
        for (size_t it = 0; it < items.size(); ++it) {
            const IndexItem& item = items[it];
            const KvCache::View& cv = c[size_t(seg_of[size_t(item.r0)])];
            const float* qs[ROWS];
            const float* ws[ROWS];
            float* outs[ROWS];
            int lim[ROWS];
            const int nq = item.r1 - item.r0;
            for (int j = 0; j < nq; ++j) {
                const int s = item.r0 + j;
                qs[j] = q + size_t(qrow[size_t(s)]) * nh * hd;  // a scored row (items hold only those)
                ws[j] = wts + size_t(qrow[size_t(s)]) * nh;
                outs[j] = score + soff[size_t(s)] + size_t(item.t0);
                lim[j] = pos_of[size_t(s)] + 1 - item.t0;
            }
            // The item's key rows (pointers into the entry's paged cache), as stored: packed bf16 in fp8 numerics (the
            // bf16 dot-product kernel reads them), else f32.
            const int nk = item.t1 - item.t0;
            if (idx_bf16) {
                const uint16_t* k16[MAX_CHUNK];
                for (int t = 0; t < nk; ++t) k16[t] = reinterpret_cast<const uint16_t*>(cv.idx_k(item.t0 + t));
                kernels::index_scores_bf16_keys(qs, ws, outs, lim, nq, nh, hd, k16, nk);
            } else {
                const float* kp[MAX_CHUNK];
                for (int t = 0; t < nk; ++t) kp[t] = cv.idx_k(item.t0 + t);
                kernels::index_scores(qs, ws, outs, lim, nq, nh, hd, kp, nk);
            }
        }
        RegionFailure fail;  // a selection may grow
        auto select_row = [&](int s) {
            fail.run([&] {
                const int nkeys = pos_of[size_t(s)] + 1;
                std::vector<int>& sel = (*selected)[size_t(s)];
                if (nkeys <= topk) {
                    sel.resize(static_cast<size_t>(nkeys));
                    for (int t = 0; t < nkeys; ++t) sel[size_t(t)] = t;
                    return;
                }
                select_topk(score + soff[size_t(s)], nkeys, topk, &sel);
            });
        };
        if (s1 - s0 == 1) {  // one row (a batch-1 decode step): no parallel region, which on one thread costs a team
            select_row(s0);
        } else {
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads())
#endif
            for (int s = s0; s < s1; ++s) select_row(s);
        }
        if (fail.failed()) throw std::runtime_error("indexer: layer " + std::to_string(l) + ": out of memory in the top-k selection");
        s0 = s1;
    }
    if (topk_observer && writer)
        for (int s = 0; s < S; ++s) topk_observer(l, pos_of[size_t(s)], (*selected)[size_t(s)]);
}

}  // namespace dsv32
