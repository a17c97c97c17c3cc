// mla.cpp: Multi-head Latent Attention in f32 numerics (architecture.md §6), with sparse attention over the
// indexer's selection, for all entries of a step at once: the projections run over the stacked rows of every entry;
// attention runs per entry over its own cache. Prefill chunk (n > 1): MHA form, k_nope/v = wkv_b(latent) for every
// cached position, so chunks with start > 0 attend to the cache too. Decode (n == 1): absorbed form over the cached
// latent.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/attention.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/region_failure.h"
#include "model/workspace.h"

namespace dsv32 {

namespace {

// attention()'s lists, this thread's (workspace.h: reused from layer to layer and step to step, so that a decode step
// allocates nothing once an equally large one has run).
struct AttentionLists {
    ReusedList<KvCache::View> views;  // each entry's cache
    std::vector<int> seg_of;          // each row's entry
    ReusedList<std::vector<int>> sel;  // each row's selected keys
    std::vector<int> mha, dec;        // the entries of each path
    // Absorbed decode: each entry's selected rows (f32, or packed bf16 in fp8 numerics), the start of its scores,
    // and the work items of steps 2 and 4.
    ReusedList<std::vector<const float*>> lat_rows, pe_rows;
    ReusedList<std::vector<const uint16_t*>> lat16, pe16;
    std::vector<size_t> p0;
    std::vector<std::pair<int, int>> score_items, value_items;
};

AttentionLists& attention_lists() {
    thread_local AttentionLists a;
    return a;
}

}  // namespace

void Model::linear(const Linear& L, const float* x, int S, float* y) const { linear(L, x, S, y, threads()); }

void Model::linear(const Linear& L, const float* x, int S, float* y, int n_threads) const {
    const kernels::WeightMat m = L.mat();
    if (fp8_ && m.type == kernels::WType::FP8) kernels::linear_fp8(x, m, y, S, n_threads);
    else kernels::linear(x, m, y, S, n_threads);  // f32 numerics; in fp8 numerics the gate / bf16 weights run in f32 too
}

void Model::linear_pair(const Linear& A, float* ya, const Linear& B, float* yb, const float* x, int S, int n_threads) const {
    const kernels::WeightMat a = A.mat(), b = B.mat();
    if (fp8_ && a.type == kernels::WType::FP8 && b.type == kernels::WType::FP8 && a.in == b.in) {
        const kernels::LinearPart parts[2] = {{&a, ya}, {&b, yb}};
        kernels::linear_fp8_parts(x, parts, 2, S, n_threads);
        return;
    }
    linear(A, x, S, ya, n_threads);
    linear(B, x, S, yb, n_threads);
}

void Model::attention(int l, const float* x, const Step& st, float* out) const {
    const LayerWeights& L = w_.layers[size_t(l)];
    const RankWeights::Layer& R = shard(l);  // this rank's heads: wq_b, wkv_b rows and wo columns (§9)
    const int dn = cfg_.qk_nope_head_dim, dr = cfg_.qk_rope_head_dim;
    const int dv = cfg_.v_head_dim, kvr = cfg_.kv_lora_rank, qlr = cfg_.q_lora_rank;
    const int dq = dn + dr;
    const int H = R.wq_b.out / dq;  // heads on this rank (num_attention_heads / mp)
    const bool writer = rank().rank == 0;  // the ranks share the cache; rank 0 writes it (model/ranks.cpp)
    const float eps = float(cfg_.rms_norm_eps);
    const int S = st.rows;  // all rows of the step: the projections run once over them

    AttentionLists& A = attention_lists();
    // Written in full by the linears and the norm below (64-byte aligned: linear's x; workspace.h).
    float* const qa = workspace(WorkSlot::MlaQa, size_t(S) * qlr);
    float* const qr = workspace(WorkSlot::MlaQr, size_t(S) * qlr);
    float* const q = workspace(WorkSlot::MlaQ, size_t(S) * H * dq);  // [S, H * dq]
    float* const kv = workspace(WorkSlot::MlaKvA, size_t(S) * (kvr + dr));
    // wq_a and wkv_a read the same x: one call (at decode, one parallel region and one stream a thread for both)
    linear_pair(L.wq_a, qa, L.wkv_a, kv, x, S, threads());
    kernels::rmsnorm(qa, L.q_norm.data(), qr, S, qlr, eps);
    bf16(qr, size_t(S) * qlr);
    linear(R.wq_b, qr, S, q);
    // Per entry: RoPE at its positions, the latent and k_pe written to its cache rows (§6.1). The rows are the same
    // on every rank (wkv_a is replicated): rank 0 writes them. Rows are independent: split over the threads (a prefill
    // chunk has hundreds).
    ReusedList<KvCache::View>& c = A.views;
    std::vector<int>& seg_of = A.seg_of;
    c.resize(st.segs.size());
    seg_of.resize(size_t(S));
    for (size_t i = 0; i < st.segs.size(); ++i) {
        st.cache->view(st.segs[i].seq, l, &c[i]);
        for (int s = st.segs[i].row0; s < st.segs[i].row0 + st.segs[i].n; ++s) seg_of[size_t(s)] = int(i);
    }
    // RoPE cos / sin of each row's position (Rope::table) and, in fp8 numerics, each latent before it is packed:
    // taken here, since no exception may leave the parallel region.
    float* const cs_rows = workspace(WorkSlot::MlaRope, size_t(S) * size_t(dr));
    float* const lat_rows_c = fp8_ ? workspace(WorkSlot::MlaLatRow, size_t(S) * size_t(kvr)) : nullptr;
    auto rope_row = [&](int s) {
        float* const cs = cs_rows + size_t(s) * dr;
        float* const latc = fp8_ ? lat_rows_c + size_t(s) * kvr : nullptr;
        const Segment& g = st.segs[size_t(seg_of[size_t(s)])];
        const KvCache::View& cv = c[size_t(seg_of[size_t(s)])];
        const int pos = g.start + (s - g.row0);
        rope_.table(pos, cs);
        for (int h = 0; h < H; ++h) rope_.apply(q + (size_t(s) * H + h) * dq + dn, cs, true);
        if (!writer) return;
        float* row = kv + size_t(s) * (kvr + dr);
        if (fp8_) {  // latent: bf16, then the per-128-block FP8 round trip (ue8m0); k_pe stays bf16
            kernels::rmsnorm(row, L.kv_norm.data(), latc, 1, kvr, eps);
            rope_.apply(row + kvr, cs, true);
            bf16(latc, size_t(kvr));
            if (kvr % 128 == 0) kernels::act_quant_roundtrip(latc, 1, kvr, true);
            bf16(row + kvr, size_t(dr));
            // Both are bf16 values: cached as packed bf16 (kv_cache.h: the fp8 numerics' row format), half the
            // bytes for every later step to read.
            kernels::pack_bf16(latc, kvr, reinterpret_cast<uint16_t*>(cv.latent(pos)));
            kernels::pack_bf16(row + kvr, dr, reinterpret_cast<uint16_t*>(cv.k_pe(pos)));
        } else {
            kernels::rmsnorm(row, L.kv_norm.data(), cv.latent(pos), 1, kvr, eps);
            rope_.apply(row + kvr, cs, true);
            std::copy_n(row + kvr, dr, cv.k_pe(pos));
        }
    };
    // One row (a batch-1 decode step) runs here: a parallel region on one thread still costs libgomp a team.
    if (S == 1) {
        rope_row(0);
    } else {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads())
#endif
        for (int s = 0; s < S; ++s) rope_row(s);
    }
    rank_barrier();  // the written rows are visible to every rank from here

    ReusedList<std::vector<int>>& sel = A.sel;
    indexer(l, x, qr, st, c, &sel);

    const size_t on = size_t(S) * H * dv;  // o: the heads' outputs [S, H * dv], wo's input
    float* const o = workspace(WorkSlot::MlaOut, on);
    std::fill_n(o, on, 0.0f);
    const float scale = softmax_scale_;
    const int kvw = dn + dv;
    // Which path each entry takes: n > 1 a prefill chunk (MHA form), n == 1 a decode token (absorbed form).
    std::vector<int>& mha = A.mha;  // indices into st.segs
    std::vector<int>& dec = A.dec;
    mha.clear();
    dec.clear();
    for (size_t i = 0; i < st.segs.size(); ++i) (st.segs[i].n > 1 ? mha : dec).push_back(int(i));

    if (!mha.empty()) {
        // MHA form over every cached position 0..end-1 of each chunk's sequence (§6.2, widened to the cache for
        // chunked prefill): k_nope / v = wkv_b(latent), one GEMM over the stacked latents of all chunks.
        std::vector<size_t> kv0(st.segs.size(), 0);  // each chunk's first row in lat / kvb
        size_t total = 0;
        for (int i : mha) {
            kv0[size_t(i)] = total;
            total += size_t(st.segs[size_t(i)].start + st.segs[size_t(i)].n);
        }
        float* const lat = workspace(WorkSlot::MlaLatent, total * kvr);      // [total, kvr]: every row copied below
        float* const kvb = workspace(WorkSlot::MlaKvB, total * H * kvw);     // [total, H * kvw]: written by the linear
        // fp8 numerics: the rows are packed bf16; k_pe widened too (the MHA kernel reads f32 keys).
        float* const pe32 = fp8_ ? workspace(WorkSlot::MlaPe, total * dr) : nullptr;
        for (int i : mha)
            for (int t = 0; t < st.segs[size_t(i)].start + st.segs[size_t(i)].n; ++t) {
                const size_t r = kv0[size_t(i)] + size_t(t);
                if (fp8_) {
                    kernels::unpack_bf16(reinterpret_cast<const uint16_t*>(c[size_t(i)].latent(t)), kvr, lat + r * kvr);
                    kernels::unpack_bf16(reinterpret_cast<const uint16_t*>(c[size_t(i)].k_pe(t)), dr, pe32 + r * dr);
                } else {
                    std::copy_n(c[size_t(i)].latent(t), kvr, lat + r * kvr);
                }
            }
        linear(R.wkv_b, lat, int(total), kvb);
        // By head: an item below reads one head's k_nope / v of many keys; in kvb those lie H * kvw floats apart (16 KB
        // on mini), all in the same few cache sets, which thrashed L1 / L2. kvh [H][total][kvw] makes them contiguous.
        float* const kvh = workspace(WorkSlot::MlaKvHead, total * H * kvw);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(threads()) if (total * H * kvw > (1u << 16))
#endif
        for (long t = 0; t < long(total); ++t)
            for (int h = 0; h < H; ++h)
                std::copy_n(kvb + (size_t(t) * H + h) * kvw, kvw, kvh + (size_t(h) * total + size_t(t)) * kvw);
        std::vector<std::pair<int, int>> rows;  // (segment, row) of every query on this path
        for (int i : mha)
            for (int s = 0; s < st.segs[size_t(i)].n; ++s) rows.emplace_back(i, st.segs[size_t(i)].row0 + s);
        // Work items: (16 consecutive query rows, one head). An item reads only its head's k_nope / v of the keys
        // (contiguous in kvh), so they stay in L2 across its rows instead of every row sweeping all heads.
        constexpr int RB = 16;
        const int nblocks = int((rows.size() + RB - 1) / RB), items = nblocks * H;
        // A row whose selection is its whole causal prefix (every row while the sequence is within top-k keys)
        // goes with up to 3 following such rows of its chunk to kernels::mha_rows_prefix, which reads each key once
        // for all of them (the same bits as one mha_row each); other rows (a top-k selection) take mha_row.
        auto prefix_row = [&](size_t r) {
            const Segment& g = st.segs[size_t(rows[r].first)];
            return sel[size_t(rows[r].second)].size() == size_t(g.start + (rows[r].second - g.row0) + 1);
        };
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads()) if (items > 1 && rows.size() > 8)
#endif
        for (int it = 0; it < items; ++it) {
            const int h = it % H;
            const size_t r0 = size_t(it / H) * RB, r1 = std::min(rows.size(), r0 + RB);
            std::vector<const float*> kv_rows, pe_rows;
            std::vector<float> p;
            for (size_t r = r0; r < r1;) {
                const int i = rows[r].first, s = rows[r].second;
                const KvCache::View& cv = c[size_t(i)];
                const float* kvbi = kvh + (size_t(h) * total + kv0[size_t(i)]) * kvw;  // head h of key 0
                size_t nq = 1;
                if (prefix_row(r))
                    while (nq < 4 && r + nq < r1 && rows[r + nq].first == i && prefix_row(r + nq)) ++nq;
                int n[4];
                for (size_t g = 0; g < nq; ++g) n[g] = int(sel[size_t(rows[r + g].second)].size());
                // The group's last row has the longest selection, and the others' are its prefixes.
                const std::vector<int>& keys = sel[size_t(rows[r + nq - 1].second)];
                const size_t nmax = keys.size();
                kv_rows.resize(nmax);
                pe_rows.resize(nmax);
                p.resize(nq * nmax);
                for (size_t j = 0; j < nmax; ++j) {
                    kv_rows[j] = kvbi + size_t(keys[j]) * kvw;
                    pe_rows[j] = pe32 ? pe32 + (kv0[size_t(i)] + size_t(keys[j])) * dr : cv.k_pe(keys[j]);
                }
                if (nq == 1) {
                    kernels::mha_row(q + (size_t(s) * H + h) * dq, 1, dn, dr, dv, kv_rows.data(), pe_rows.data(),
                                     int(keys.size()), scale, o + (size_t(s) * H + h) * dv, p.data());
                } else {
                    const float* qg[4];
                    float* og[4];
                    for (size_t g = 0; g < nq; ++g) {
                        qg[g] = q + (size_t(rows[r + g].second) * H + h) * dq;
                        og[g] = o + (size_t(rows[r + g].second) * H + h) * dv;
                    }
                    kernels::mha_rows_prefix(qg, int(nq), dn, dr, dv, kv_rows.data(), pe_rows.data(), n, scale, og, p.data());
                }
                r += nq;
            }
        }
    }
    if (!dec.empty()) {
        // Absorbed form (§6.3): q_lat = W_UK^T q_nope, scores = q_lat . c_t + q_pe . k_pe_t, o = W_UV (sum_t p_t c_t),
        // in one parallel region of five steps (each a worksharing loop; the barriers between them order the steps):
        //   1. per group of heads, q_lat of every entry (W_UK rows dequantised once per group: kernels::linear_t_rows; in
        //      fp8 numerics from the W_UK pair tiles, kernels::linear_t_tiles: mini's batch-4 step 0.81 -> 0.33 ms,
        //      batch 1 0.49 -> 0.29, though W_UV, no longer next to lines step 1 brought in, takes 0.04-0.06 more);
        //   2. per (entry, chunk of selected keys), the scores of all heads (kernels::mla_scores): each selected latent
        //      is read once, by one thread;
        //   3. per (entry, head), the softmax;
        //   4. per (entry, block of latent columns; for some entries per half of its keys too: below), o_lat of all heads
        //      (kernels::mla_values);
        //   5. per group of heads, o = W_UV o_lat for every entry (kernels::linear_rows).
        // Every value is computed the same way whatever the split or thread count (attention.h). Steps 2-4 split their
        // items (in entry order) statically: a thread then scores and sums the same entries' rows, which stay in its L2
        // (at batch 4, entries 0-1 on one core, 2-3 on the other). With a dynamic schedule the values read many rows the
        // other core had scored (the values step at batch 4: 1.0-1.2 ms, against 0.7-0.8); batch-4 fp8 steps of
        // 24.5-26.5 ms against 24.5-24.9 (bench_decode, five pairs), f32 35-38 against 34-35.5, batch 1 unchanged. A
        // static split does not absorb a preempted thread; measured, it still won. Steps 1 and 5 are static too: each
        // thread streams one run of adjacent heads' weights (W_UK's tiles, wkv_b's W_UV rows) instead of items taken in
        // turn. mini, fp8, context 1024, in one process (2026-12-05): step 1 at batch 1 0.28 -> 0.22 ms a step, step 5
        // 0.30 -> 0.27; whole steps 0.05-0.12 ms shorter at batch 1 and 0.08-0.13 at batch 4 (three runs).
        const kernels::WeightMat wkv_b = R.wkv_b.mat();
        const std::vector<kernels::Fp8PairTiles>& uk_tiles = wuk_tiles_[size_t(rank().rank)];
        const kernels::Fp8PairTiles* uk = fp8_ && size_t(l) < uk_tiles.size() && !uk_tiles[size_t(l)].empty() ? &uk_tiles[size_t(l)] : nullptr;
        const int nd = int(dec.size());
        // The selected rows: f32, or packed bf16 in fp8 numerics (read by the *_bf16 kernels, the same bits).
        ReusedList<std::vector<const float*>>& lat_rows = A.lat_rows;
        ReusedList<std::vector<const float*>>& pe_rows = A.pe_rows;
        ReusedList<std::vector<const uint16_t*>>& lat16 = A.lat16;
        ReusedList<std::vector<const uint16_t*>>& pe16 = A.pe16;
        std::vector<size_t>& p0 = A.p0;  // entry i's scores: pbuf[p0[i] ..], [H][ns_i]
        lat_rows.resize(size_t(nd));
        pe_rows.resize(size_t(nd));
        lat16.resize(size_t(nd));
        pe16.resize(size_t(nd));
        p0.assign(size_t(nd) + 1, 0);
        for (int i = 0; i < nd; ++i) {
            const KvCache::View& cv = c[size_t(dec[size_t(i)])];
            const std::vector<int>& keys = sel[size_t(st.segs[size_t(dec[size_t(i)])].row0)];
            // Resized (no clearing: every element is written below, and a list of the same length is not zero-filled
            // again) and filled through plain pointers: push_back's reload of the end pointer made this loop about
            // 0.25 ms of a batch-4 step on mini (16K keys), the other thread waiting. One pair is used per numerics.
            const size_t nk = keys.size();
            if (fp8_) {
                lat16[size_t(i)].resize(nk);
                pe16[size_t(i)].resize(nk);
                const uint16_t** lr = lat16[size_t(i)].data();
                const uint16_t** pr = pe16[size_t(i)].data();
                for (size_t j = 0; j < nk; ++j) {
                    lr[j] = reinterpret_cast<const uint16_t*>(cv.latent(keys[j]));
                    pr[j] = reinterpret_cast<const uint16_t*>(cv.k_pe(keys[j]));
                }
            } else {
                lat_rows[size_t(i)].resize(nk);
                pe_rows[size_t(i)].resize(nk);
                const float** lr = lat_rows[size_t(i)].data();
                const float** pr = pe_rows[size_t(i)].data();
                for (size_t j = 0; j < nk; ++j) {
                    lr[j] = cv.latent(keys[j]);
                    pr[j] = cv.k_pe(keys[j]);
                }
            }
            p0[size_t(i) + 1] = p0[size_t(i)] + size_t(H) * keys.size();
        }
        auto ns = [&](int i) { return int(fp8_ ? lat16[size_t(i)].size() : lat_rows[size_t(i)].size()); };
        auto row_of = [&](int i) { return st.segs[size_t(dec[size_t(i)])].row0; };
        const int nt = std::max(1, threads());
        const int G = std::max(1, std::min(8, H / (4 * nt)));  // heads per item of steps 1 and 5 (~4 items a thread)
        const int groups = (H + G - 1) / G;
        // Keys per item of step 2, latent columns per item of step 4. An item's first rows come from memory with nothing
        // to overlap them (its later rows are prefetched a pass ahead): 128 keys rather than 64 halve those stalls. The
        // fp8 scores step of mini's batch-4 decode at context 1024 (attention_avx512bf16.cpp's kernel): 1.48 ms with 64,
        // 1.29-1.39 with 128, 1.32 with 256 (runs of 40 rounds, alternating within one process).
        constexpr int KEYS = 128, COLS = 64;
        // Step 4 sums an entry's keys in two halves split at a multiple of KEYS, [0, half) and [half, n): the keys that the
        // first and the second half of its step-2 items score. o_lat is the first half's sum plus the second's (one f32
        // add, in that order: the same bits whatever the split or thread count; attention.h, mla_values' split). Where an
        // entry's step-2 items span two threads (nd % nt != 0: batch 1 on two threads), the halves are items of their own,
        // so that with the static splits a thread sums the rows it scored, in its own L2, and step 5 adds the halves. The
        // columns alone split that step, each thread read half its rows from the other core's cache: mini's batch-1 fp8
        // step spent as long on the values as on the scores (0.35 ms). Otherwise an item sums both halves of its columns
        // in one call. mini at context 1024, alternating within one process (2026-12-05, fast-memory minutes): fp8 batch 1
        // 9.50-9.59 -> 9.29-9.42 ms a step, batch 4 unchanged (17.30-17.56); f32 batch 1 12.38 -> 12.12.
        auto half = [&](int i) { return std::min(ns(i), KEYS * ((ns(i) + 2 * KEYS - 1) / (2 * KEYS))); };
        const bool half_items = nd % nt != 0;
        std::vector<std::pair<int, int>>& score_items = A.score_items;  // (entry, first key)
        std::vector<std::pair<int, int>>& value_items = A.value_items;  // (2 * entry + key half, first column)
        score_items.clear();
        value_items.clear();
        for (int i = 0; i < nd; ++i) {
            for (int t0 = 0; t0 < ns(i); t0 += KEYS) score_items.emplace_back(i, t0);
            for (int k = 0; k < (half_items && half(i) < ns(i) ? 2 : 1); ++k)
                for (int c0 = 0; c0 < kvr; c0 += COLS) value_items.emplace_back(2 * i + k, c0);
        }
        // Written in full by steps 1 (qlat), 2 (pbuf), 4 (olat) and the copy below (qpe); 64-byte aligned (workspace.h)
        // so that every head's row starts on a cache line.
        float* const qlat = workspace(WorkSlot::MlaDecQLatAll, size_t(nd) * H * kvr);
        float* const qpe = workspace(WorkSlot::MlaDecQPe, size_t(nd) * H * dr);
        float* const olat = workspace(WorkSlot::MlaDecOLatAll, size_t(nd) * H * kvr);
        float* const olat2 = half_items ? workspace(WorkSlot::MlaDecOLatHalf, size_t(nd) * H * kvr) : nullptr;  // second halves
        float* const pbuf = workspace(WorkSlot::MlaDecScores, p0.back());
        // fp8 numerics (§6.5): the query and the probabilities are bf16, as the demo's einsums make them (q_lat and the
        // softmax output; q_pe is RoPE's bf16 output), packed for the bf16 kernels: in the first halves of qlat / qpe,
        // and in p16 (the scores' layout). Sums and the softmax stay f32.
        uint16_t* const qlat16 = reinterpret_cast<uint16_t*>(qlat);
        uint16_t* const qpe16 = reinterpret_cast<uint16_t*>(qpe);
        uint16_t* const p16 = fp8_ ? reinterpret_cast<uint16_t*>(workspace(WorkSlot::MlaDecProbs, (p0.back() + 1) / 2)) : nullptr;
        RegionFailure fail;  // buffers, the kernels' scratch
        for (int i = 0; i < nd; ++i)
            for (int h = 0; h < H; ++h) {
                const float* src = q + (size_t(row_of(i)) * H + h) * dq + dn;
                if (fp8_) kernels::pack_bf16(src, dr, qpe16 + (size_t(i) * H + h) * dr);
                else std::copy_n(src, dr, qpe + (size_t(i) * H + h) * dr);
            }
        const bool par = nt > 1 && int64_t(H) * kvw * kvr * nd > 200000;
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (par)
#endif
        {
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (int gi = 0; gi < groups; ++gi)
                fail.run([&] {
                    float* xg = workspace(WorkSlot::MlaDecQNope, size_t(nd) * dn);  // this thread's
                    float* og = workspace(WorkSlot::MlaDecQLat, size_t(nd) * kvr);
                    for (int h = gi * G; h < std::min(H, gi * G + G); ++h) {
                        for (int i = 0; i < nd; ++i) std::copy_n(q + (size_t(row_of(i)) * H + h) * dq, dn, xg + size_t(i) * dn);
                        // fp8 numerics: q_nope is bf16 (wq_b's output), so the pair tiles' kernel takes it where it can
                        if (!(uk && kernels::linear_t_tiles(xg, *uk, h, og, nd)))
                            kernels::linear_t_rows(xg, wkv_b, h * kvw, h * kvw + dn, og, nd);
                        for (int i = 0; i < nd; ++i) {
                            if (fp8_) kernels::pack_bf16(og + size_t(i) * kvr, kvr, qlat16 + (size_t(i) * H + h) * kvr);
                            else std::copy_n(og + size_t(i) * kvr, kvr, qlat + (size_t(i) * H + h) * kvr);
                        }
                    }
                });
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (size_t it = 0; it < score_items.size(); ++it) {
                const int i = score_items[it].first, t0 = score_items[it].second, n = std::min(KEYS, ns(i) - t0);
                if (fp8_)
                    kernels::mla_scores_bf16q(qlat16 + size_t(i) * H * kvr, qpe16 + size_t(i) * H * dr, H, kvr, dr,
                                              lat16[size_t(i)].data() + t0, pe16[size_t(i)].data() + t0, n, scale,
                                              pbuf + p0[size_t(i)] + size_t(t0), size_t(ns(i)));
                else
                    kernels::mla_scores(qlat + size_t(i) * H * kvr, qpe + size_t(i) * H * dr, H, kvr, dr,
                                        lat_rows[size_t(i)].data() + t0, pe_rows[size_t(i)].data() + t0, n, scale,
                                        pbuf + p0[size_t(i)] + size_t(t0), size_t(ns(i)));
            }
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (int ih = 0; ih < nd * H; ++ih) {
                const int i = ih / H, h = ih % H;
                const size_t at = p0[size_t(i)] + size_t(h) * size_t(ns(i));
                kernels::softmax(pbuf + at, ns(i));
                if (fp8_) kernels::pack_bf16(pbuf + at, ns(i), p16 + at);
            }
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (size_t it = 0; it < value_items.size(); ++it) {
                const int i = value_items[it].first / 2, c0 = value_items[it].second, c1 = std::min(kvr, c0 + COLS);
                // The keys [t0, t1) summed into dst, columns [c0, c1); in two halves at split (attention.h).
                auto sum = [&](int t0, int t1, int split, float* dst) {
                    if (fp8_)
                        kernels::mla_values_bf16p(p16 + p0[size_t(i)] + size_t(t0), size_t(ns(i)), H, kvr,
                                                  lat16[size_t(i)].data() + t0, t1 - t0, c0, c1, dst, split);
                    else
                        kernels::mla_values(pbuf + p0[size_t(i)] + size_t(t0), size_t(ns(i)), H, kvr,
                                            lat_rows[size_t(i)].data() + t0, t1 - t0, c0, c1, dst, split);
                };
                if (!half_items) sum(0, ns(i), half(i), olat + size_t(i) * H * kvr);
                else if (value_items[it].first % 2 == 0) sum(0, half(i), 0, olat + size_t(i) * H * kvr);
                else sum(half(i), ns(i), 0, olat2 + size_t(i) * H * kvr);  // step 5 adds it
            }
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (int gi = 0; gi < groups; ++gi)
                fail.run([&] {
                    float* og = workspace(WorkSlot::MlaDecOLat, size_t(nd) * kvr);  // this thread's
                    float* yg = workspace(WorkSlot::MlaDecOut, size_t(nd) * wkv_b.out);
                    for (int h = gi * G; h < std::min(H, gi * G + G); ++h) {
                        for (int i = 0; i < nd; ++i) {
                            const float* a = olat + (size_t(i) * H + h) * kvr;
                            float* const d = og + size_t(i) * kvr;
                            if (half_items && half(i) < ns(i)) {
                                const float* b = olat2 + (size_t(i) * H + h) * kvr;
                                for (int k = 0; k < kvr; ++k) d[k] = a[k] + b[k];
                            } else {
                                std::copy_n(a, kvr, d);
                            }
                        }
                        // fp8 numerics: o_lat is bf16, as the demo's P . V einsum leaves it (§6.5), so W_UV takes the
                        // dot-product kernels of the FP8 linear.
                        if (fp8_) bf16(og, size_t(nd) * size_t(kvr));
                        const int wuv = h * kvw + dn;  // rows h*kvw+dn .. +dv of wkv_b
                        kernels::linear_rows(og, wkv_b, yg, nd, wuv, wuv + dv, fp8_ ? kernels::XValues::Bf16 : kernels::XValues::F32);
                        for (int i = 0; i < nd; ++i)
                            std::copy_n(yg + size_t(i) * wkv_b.out + wuv, dv, o + (size_t(row_of(i)) * H + h) * dv);
                    }
                });
        }
        if (fail.failed()) throw std::runtime_error("attention: layer " + std::to_string(l) + ": out of memory in the decode attention");
    }
    bf16(o, on);
    linear(R.wo, o, S, out);
    if (rank().mp > 1) {  // wo is row-parallel: sum the ranks' partial outputs in f32, then bf16 (§9)
        all_reduce(out, size_t(S) * size_t(cfg_.hidden_size));
        bf16(out, size_t(S) * size_t(cfg_.hidden_size));
    }
}

}  // namespace dsv32
