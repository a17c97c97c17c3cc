// shard.cpp: model-parallel weight slices, as the official convert.py writes them (architecture.md §2.2, §9),
// but zero-copy: every slice is a view into the loaded Weights (and through them into the mmap'd checkpoint).
//
//   tensor (HF name)                       split                    per-rank view
//   model.embed_tokens.weight [V, D]       dim 0 (vocab rows)       rows [r*V/mp, ...): contiguous rows
//   lm_head.weight [V, D]                  dim 0 (vocab rows)       the same
//   self_attn.q_b_proj [H*(dn+dr), qr]     dim 0 (whole heads)      rows of heads [r*H/mp, ...)
//   self_attn.kv_b_proj [H*(dn+dv), c]     dim 0 (whole heads)      rows of heads [r*H/mp, ...)
//   self_attn.o_proj [D, H*dv]             dim 1 (whole heads)      columns: same data, ld = H*dv, offset r*H/mp*dv
//   mlp.{gate,up}_proj, shared too [I, D]  dim 0                    rows [r*I/mp, ...)
//   mlp.down_proj, shared too [D, I]       dim 1                    columns, ld = I
//   mlp.experts.{j}.*                      whole experts            j in [r*E/mp, (r+1)*E/mp)
//   everything else                        replicated (read from Weights; the indexer per §7)
//
// A weight_scale_inv is split on the same dim as its weight (§2.2: its key is the module name), so an FP8 slice
// is consistent only when it holds whole 128-blocks: per-rank rows (dim 0) or columns (dim 1) a multiple of 128.
// Slices start at block boundaries then, and the view's scale pointer moves by whole block rows / columns.
#include <stdexcept>
#include <string>

#include "model/model.h"

namespace dsv32 {

namespace {

std::string shape2(int out, int in) { return "[" + std::to_string(out) + ", " + std::to_string(in) + "]"; }

const char* type_name(kernels::WType t) {
    switch (t) {
        case kernels::WType::F32: return "F32";
        case kernels::WType::BF16: return "BF16";
        case kernels::WType::FP8: return "F8_E4M3";
    }
    return "?";
}

// Why L cannot be split into mp slices on dim (0: rows, 1: columns); "" if it can.
std::string split_problem(const Linear& L, int dim, int mp) {
    const int n = dim == 0 ? L.out : L.in;
    const std::string d = " (dim " + std::to_string(dim) + ")";
    if (n % mp != 0) return std::to_string(n) + (dim == 0 ? " rows" : " columns") + d + " are not divisible by mp=" + std::to_string(mp);
    const int per = n / mp;
    if (L.type == kernels::WType::FP8 && per % 128 != 0)
        return (dim == 0 ? "per-rank rows of " : "per-rank K of ") + std::to_string(per) + d + " is not a whole number of 128-wide FP8 blocks";
    return "";
}

// Rows [r0, r0 + n) of L (a column-parallel slice): contiguous rows; FP8 scales from block row r0 / 128.
Linear rows(const Linear& L, int r0, int n) {
    Linear v = L;
    v.out = n;
    v.raw = static_cast<const uint8_t*>(L.raw) + size_t(r0) * L.mat().stride() * kernels::wtype_bytes(L.type);
    if (L.type == kernels::WType::FP8) v.scale = L.scale + size_t(r0 / 128) * size_t(L.scale_ld);
    return v;
}

// Columns [c0, c0 + n) of L (a row-parallel slice): the same rows with a row stride of the whole matrix.
Linear cols(const Linear& L, int c0, int n) {
    Linear v = L;
    v.in = n;
    v.ld = int(L.mat().stride());
    v.raw = static_cast<const uint8_t*>(L.raw) + size_t(c0) * kernels::wtype_bytes(L.type);
    if (L.type == kernels::WType::FP8) v.scale = L.scale + c0 / 128;
    return v;
}

Linear split(const Linear& L, int dim, int rank, int mp) {
    if (dim == 0) return rows(L, rank * (L.out / mp), L.out / mp);
    return cols(L, rank * (L.in / mp), L.in / mp);
}

}  // namespace

void check_split_config(const Config& c, int mp) {
    if (mp < 1) throw ShardError("mp=" + std::to_string(mp) + " must be at least 1");
    // Config fields first: the message names them (convert.py needs each split dimension divisible by mp).
    std::string fields;
    auto need = [&](const char* field, int value, bool used) {
        if (used && value % mp != 0) fields += (fields.empty() ? "" : ", ") + std::string(field) + " (" + std::to_string(value) + ")";
    };
    const bool has_dense = c.first_k_dense_replace > 0, has_moe = c.num_hidden_layers > c.first_k_dense_replace;
    need("vocab_size", c.vocab_size, true);
    need("num_attention_heads", c.num_attention_heads, true);
    need("intermediate_size", c.intermediate_size, has_dense);
    need("n_routed_experts", c.n_routed_experts, has_moe);
    need("moe_intermediate_size * n_shared_experts", c.moe_intermediate_size * c.n_shared_experts, has_moe && c.n_shared_experts > 0);
    if (!fields.empty())
        throw ShardError("mp=" + std::to_string(mp) + " does not divide config.json " + fields +
                         ": each is split across the model-parallel ranks (as convert.py splits the checkpoint)");
}

std::vector<RankWeights> shard_weights(const Config& c, const Weights& w, int mp, const Progress& progress) {
    check_split_config(c, mp);

    // Then every split tensor: all problems are collected, the message names the first few.
    struct Item {
        const Linear* L;
        int dim;
    };
    std::vector<Item> items{{&w.embed, 0}, {&w.head, 0}};
    for (const LayerWeights& L : w.layers) {
        items.push_back({&L.wq_b, 0});
        items.push_back({&L.wkv_b, 0});
        items.push_back({&L.wo, 1});
        const Ffn* f = !L.moe ? &L.dense : c.n_shared_experts > 0 ? &L.shared : nullptr;
        if (f) {
            items.push_back({&f->w1, 0});
            items.push_back({&f->w3, 0});
            items.push_back({&f->w2, 1});
        }
    }
    std::string problems;
    int n_problems = 0;
    for (const Item& it : items) {
        if (mp == 1) break;  // nothing is split
        const std::string why = split_problem(*it.L, it.dim, mp);
        if (why.empty()) continue;
        if (++n_problems <= 3)
            problems += (n_problems > 1 ? "; " : "") + it.L->name + " " + shape2(it.L->out, it.L->in) + " " + type_name(it.L->type) + ": " + why;
    }
    if (n_problems > 0)
        throw ShardError("mp=" + std::to_string(mp) + " cannot split the checkpoint as convert.py does: " + problems +
                         (n_problems > 3 ? "; and " + std::to_string(n_problems - 3) + " more tensors" : std::string()) +
                         " (a weight_scale_inv is split with its weight, so every FP8 slice must hold whole 128x128 blocks)");

    // Progress in bytes of the tensors split or assigned (all ranks' slices together = the whole tensors).
    auto bytes = [](const Linear& L) { return int64_t(L.mat().nbytes()); };
    auto ffn_bytes = [&](const Ffn& f) { return bytes(f.w1) + bytes(f.w2) + bytes(f.w3); };
    std::vector<int64_t> layer_bytes;
    int64_t total = bytes(w.embed) + bytes(w.head), done = 0;
    for (const LayerWeights& L : w.layers) {
        int64_t b = bytes(L.wq_b) + bytes(L.wkv_b) + bytes(L.wo) + (L.moe ? ffn_bytes(L.shared) : ffn_bytes(L.dense));
        for (const Ffn& e : L.experts) b += ffn_bytes(e);
        layer_bytes.push_back(b);
        total += b;
    }
    if (progress) progress("shard", 0, total);

    std::vector<RankWeights> ranks(static_cast<size_t>(mp));
    for (int r = 0; r < mp; ++r) {
        RankWeights& R = ranks[size_t(r)];
        R.rank = r;
        R.mp = mp;
        R.vocab0 = r * (c.vocab_size / mp);
        R.embed = split(w.embed, 0, r, mp);
        R.head = split(w.head, 0, r, mp);
    }
    done += bytes(w.embed) + bytes(w.head);
    if (progress) progress("shard", done, total);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& L = w.layers[l];
        for (int r = 0; r < mp; ++r) {
            RankWeights::Layer S;
            S.wq_b = split(L.wq_b, 0, r, mp);
            S.wkv_b = split(L.wkv_b, 0, r, mp);
            S.wo = split(L.wo, 1, r, mp);
            auto ffn = [&](const Ffn& f) {
                Ffn s;
                s.w1 = split(f.w1, 0, r, mp);
                s.w3 = split(f.w3, 0, r, mp);
                s.w2 = split(f.w2, 1, r, mp);
                return s;
            };
            if (!L.moe) {
                S.dense = ffn(L.dense);
            } else {
                if (c.n_shared_experts > 0) S.shared = ffn(L.shared);
                const int per = int(L.experts.size()) / mp;
                S.expert0 = r * per;
                S.expert1 = (r + 1) * per;
            }
            ranks[size_t(r)].layers.push_back(std::move(S));
        }
        done += layer_bytes[l];
        if (progress) progress("shard", done, total);
    }
    return ranks;
}

}  // namespace dsv32
