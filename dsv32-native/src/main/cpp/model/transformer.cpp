// transformer.cpp: model construction and the forward pass (architecture.md §5), f32 numerics.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "checkpoint/safetensors.h"
#include "kernels/kernels.h"
#include "model/model.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace dsv32 {

Model::Model(const std::string& dir, int max_seq_len, int n_threads, int debug_flags) : debug_flags_(debug_flags) {
    const std::string cfg_path = dir + "/config.json";
    std::ifstream in(cfg_path, std::ios::binary);
    if (!in) throw std::runtime_error(cfg_path + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    cfg_ = parse_config(ss.str(), cfg_path);
    st_ = std::make_shared<const SafetensorsSet>(dir);
    w_ = load_weights(cfg_, *st_, dir);  // views into st_'s mappings (kept for the model's lifetime)

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
}

void Model::forward(SeqCache* cache, const int32_t* tokens, int S, float* logits) const {
    const int D = cfg_.hidden_size, V = cfg_.vocab_size, start = cache->len;
    const float eps = float(cfg_.rms_norm_eps);
    if (cache->layers.size() != size_t(cfg_.num_hidden_layers)) cache->layers.resize(size_t(cfg_.num_hidden_layers));
    std::vector<float> h(size_t(S) * D), xn(size_t(S) * D), t(size_t(S) * D);
    const kernels::WeightMat embed = w_.embed.mat();
    for (int s = 0; s < S; ++s) kernels::dequant_row(embed, tokens[s], 0, D, h.data() + size_t(s) * D);
    for (int l = 0; l < cfg_.num_hidden_layers; ++l) {
        const LayerWeights& L = w_.layers[size_t(l)];
        kernels::rmsnorm(h.data(), L.attn_norm.data(), xn.data(), S, D, eps);
        bf16(xn.data(), xn.size());
        attention(l, xn.data(), S, start, &cache->layers[size_t(l)], t.data());
        for (size_t i = 0; i < h.size(); ++i) h[i] += t[i];
        bf16(h.data(), h.size());  // fp8 numerics: the residual stream is bf16
        kernels::rmsnorm(h.data(), L.ffn_norm.data(), xn.data(), S, D, eps);
        bf16(xn.data(), xn.size());
        ffn(l, xn.data(), S, t.data());
        for (size_t i = 0; i < h.size(); ++i) h[i] += t[i];
        bf16(h.data(), h.size());
    }
    kernels::rmsnorm(h.data(), w_.norm.data(), xn.data(), S, D, eps);
    bf16(xn.data(), xn.size());
    kernels::linear(xn.data(), w_.head.mat(), logits, S, n_threads_);
    (void)V;
    cache->len = start + S;
}

double Model::decode_weight_bytes() const {
    auto b = [](const Linear& L) { return double(L.mat().nbytes()); };
    auto f = [&](const Ffn& x) { return b(x.w1) + b(x.w2) + b(x.w3); };
    double t = double(w_.embed.mat().nbytes()) / std::max(1, cfg_.vocab_size) + b(w_.head);
    for (const LayerWeights& L : w_.layers) {
        t += b(L.wq_a) + b(L.wq_b) + b(L.wkv_a) + b(L.wkv_b) + b(L.wo) + b(L.idx_wq_b) + b(L.idx_wk) + b(L.idx_wproj);
        if (!L.moe) {
            t += f(L.dense);
        } else {
            t += b(L.gate) + f(L.shared);
            if (!L.experts.empty()) t += f(L.experts[0]) * cfg_.num_experts_per_tok;
        }
    }
    return t;
}

}  // namespace dsv32
