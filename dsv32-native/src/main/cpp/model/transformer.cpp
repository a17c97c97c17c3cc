// transformer.cpp: model construction and the forward pass (architecture.md §5), f32 numerics.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/safetensors.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "model/workspace.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsv32 {

Model::Model(const std::string& dir, int max_seq_len, int n_threads, int debug_flags, int mp, const Progress& progress,
             bool verify_checksums, bool fp8_numerics)
    : debug_flags_(debug_flags), fp8_(fp8_numerics) {
    const std::string cfg_path = dir + "/config.json";
    std::ifstream in(cfg_path, std::ios::binary);
    if (!in) throw std::runtime_error(cfg_path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    cfg_ = parse_config(ss.str(), cfg_path);
    if (is_converted_dir(dir)) {  // pre-sharded by convert: each rank's slices from its own file
        ConvertedWeights cw = load_converted(cfg_, dir, mp < 1 ? 1 : mp, verify_checksums, progress);
        rank_files_ = std::move(cw.files);
        w_ = std::move(cw.w);
        ranks_ = std::move(cw.ranks);
    } else {
        st_ = std::make_shared<const SafetensorsSet>(dir, progress);
        w_ = load_weights(cfg_, *st_, dir, progress);  // views into st_'s mappings (kept for the model's lifetime)
    }

    max_seq_len_ = max_seq_len > 0 ? max_seq_len : cfg_.max_position_embeddings;
#if defined(_OPENMP)
    n_threads_ = n_threads > 0 ? n_threads : omp_get_num_procs();
#else
    n_threads_ = 1;
    (void)n_threads;
#endif
    const bool yarn = cfg_.yarn && !(debug_flags_ & DEBUG_NO_YARN);
    rope_.init(cfg_, yarn);
    double scale = 1.0 / std::sqrt(double(cfg_.qk_nope_head_dim + cfg_.qk_rope_head_dim));
    if (yarn && cfg_.rope_factor > 1.0) {
        const double m = 0.1 * cfg_.mscale_all_dim * std::log(cfg_.rope_factor) + 1.0;
        scale *= m * m;
    }
    softmax_scale_ = float(scale);
    init_ranks(mp, progress);
}

void Model::forward_rank(const Step& st, float* logits, bool last_only) const {
    const int D = cfg_.hidden_size, V = cfg_.vocab_size;
    const float eps = float(cfg_.rms_norm_eps);
    const RankCtx& rk = rank();
    const RankWeights& R = *rk.w;
    const int M = st.rows;  // the tokens of all entries, stacked
    const size_t MD = size_t(M) * size_t(D);
    // The residual stream, a block's normed input and its output (64-byte aligned: linear's x; workspace.h)
    float* const h = workspace(WorkSlot::ForwardH, MD);
    float* const xn = workspace(WorkSlot::ForwardXn, MD);
    float* const t = workspace(WorkSlot::ForwardT, MD);
    // Vocab-parallel embedding (§5 step 2): this rank's rows; other tokens give zeros, summed over the ranks.
    const kernels::WeightMat embed = R.embed.mat();
    for (size_t i = 0; i < st.segs.size(); ++i) {
        const StepEntry& e = (*st.entries)[i];
        for (int s = 0; s < e.n; ++s) {
            float* hs = h + size_t(st.segs[i].row0 + s) * D;
            const int row = e.tokens[s] - R.vocab0;
            if (row >= 0 && row < R.embed.out) kernels::dequant_row(embed, row, 0, D, hs);
            else std::fill(hs, hs + D, 0.0f);
        }
    }
    all_reduce(h, MD);
    for (int l = 0; l < cfg_.num_hidden_layers; ++l) {
        const LayerWeights& L = w_.layers[size_t(l)];
        kernels::rmsnorm(h, L.attn_norm.data(), xn, M, D, eps);
        bf16(xn, MD);
        attention(l, xn, st, t);
        for (size_t i = 0; i < MD; ++i) h[i] += t[i];
        bf16(h, MD);  // fp8 numerics: the residual stream is bf16
        kernels::rmsnorm(h, L.ffn_norm.data(), xn, M, D, eps);
        bf16(xn, MD);
        ffn(l, xn, M, t);
        for (size_t i = 0; i < MD; ++i) h[i] += t[i];
        bf16(h, MD);
    }
    // Final norm and head: on every row, or only on each entry's last row (what generation needs: architecture.md
    // §5 step 5 / §13.11, "lm_head runs on the last position only").
    int S = M;
    const float* hf = h;
    if (last_only) {
        S = int(st.segs.size());
        for (int i = 0; i < S; ++i) {
            const Segment& g = st.segs[size_t(i)];
            std::copy_n(h + size_t(g.row0 + g.n - 1) * D, D, t + size_t(i) * D);
        }
        hf = t;
    }
    kernels::rmsnorm(hf, w_.norm.data(), xn, S, D, eps);
    bf16(xn, size_t(S) * D);
    // fp8 numerics: xn holds bf16 values (the demo's head input), so the bf16 head may take the dot-product kernels.
    const kernels::XValues head_x = fp8_ ? kernels::XValues::Bf16 : kernels::XValues::F32;
    if (rk.mp == 1) {
        head_linear(xn, S, logits, head_x);
        return;
    }
    // Vocab-parallel head (§5 step 5, §9): each rank computes its vocab slice, all_gather concatenates the slices in
    // rank order. In chunks of positions, so the gathered copy stays near 16 MB whatever the prefill length.
    const int Vl = R.head.out;
    const int chunk = std::max(1, int((size_t(1) << 22) / size_t(V)));
    const int rows = std::min(chunk, S);
    float* const part = workspace(WorkSlot::HeadPart, size_t(rows) * Vl);  // this rank's slice of a chunk's logits
    float* const all = workspace(WorkSlot::HeadAll, size_t(rows) * V);     // every rank's, gathered
    for (int s0 = 0; s0 < S; s0 += chunk) {
        const int n = std::min(chunk, S - s0);
        head_linear(xn + size_t(s0) * D, n, part, head_x);
        rk.coll->all_gather(rk.rank, part, all, size_t(n) * Vl);
        if (!logits) continue;
        for (int r = 0; r < rk.mp; ++r)
            for (int s = 0; s < n; ++s)
                std::copy_n(all + (size_t(r) * n + s) * Vl, Vl, logits + (size_t(s0) + s) * V + size_t(r) * Vl);
    }
}

double Model::decode_weight_bytes() const {
    auto b = [](const Linear& L) { return double(L.mat().nbytes()); };
    auto f = [&](const Ffn& x) { return b(x.w1) + b(x.w2) + b(x.w3); };
    // The split weights from the rank slices (all ranks together: the whole tensors; a converted checkpoint has them
    // only there), the replicated ones from w_.
    double t = 0;
    for (const RankWeights& R : ranks_) {
        t += double(R.embed.mat().nbytes()) / std::max(1, cfg_.vocab_size) + b(R.head);
        for (size_t l = 0; l < R.layers.size(); ++l) {
            const RankWeights::Layer& S = R.layers[l];
            t += b(S.wq_b) + b(S.wkv_b) + b(S.wo) + (w_.layers[l].moe ? f(S.shared) : f(S.dense));
        }
    }
    for (const LayerWeights& L : w_.layers) {
        t += b(L.wq_a) + b(L.wkv_a) + b(L.idx_wq_b) + b(L.idx_wk) + b(L.idx_wproj);
        if (L.moe) {
            t += b(L.gate);
            if (!L.experts.empty()) t += f(L.experts[0]) * cfg_.num_experts_per_tok;
        }
    }
    return t;
}

}  // namespace dsv32
