// weights.cpp: finds, validates and dequantises every tensor of the checkpoint (HF names, architecture.md §2.1).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "checkpoint/demo_names.h"
#include "checkpoint/safetensors.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace dsv32 {

namespace {

struct Loader {
    const Config& cfg;
    const SafetensorsSet& st;
    const std::string& dir;
    Weights* w;               // owns the f32 copies (Weights::owned)
    bool demo = false;        // a converted rank file: tensors under convert.py's names (architecture.md §2.2)
    int64_t done_bytes = 0;   // bytes of the tensors looked up so far (the "validate" progress)

    // The name of an HF tensor in this file.
    std::string key(const std::string& hf) const { return demo ? demo_name(hf).name : hf; }

    float* own(size_t n) const {
        w->owned.push_back(std::make_unique<float[]>(n));
        return w->owned.back().get();
    }

    [[noreturn]] void fail(const TensorInfo* t, const std::string& name, const std::string& what) const {
        std::string file = t ? t->file->path() : std::string("checkpoint");
        throw std::runtime_error(file + ": tensor " + name + ": " + what);
    }

    const TensorInfo& get(const std::string& hf_name) {
        const std::string name = key(hf_name);
        const TensorInfo* t = st.find(name);
        if (!t) throw std::runtime_error(dir + ": missing tensor " + name + (demo ? "" : " (in no *.safetensors file)"));
        done_bytes += int64_t(t->nbytes);
        return *t;
    }

    void check_shape(const TensorInfo& t, const std::vector<int64_t>& shape) const {
        if (t.shape != shape)
            fail(&t, t.name, "shape " + shape_str(t.shape) + " does not match the config (expected " + shape_str(shape) + ")");
    }

    static void to_f32(const TensorInfo& t, float* out) {
        const int64_t n = t.numel();
        switch (t.dtype) {
            case DType::F32:
                for (int64_t i = 0; i < n; ++i) {
                    float v;
                    std::memcpy(&v, t.data + 4 * i, 4);
                    out[i] = v;
                }
                break;
            case DType::BF16:
                for (int64_t i = 0; i < n; ++i) out[i] = kernels::bf16_to_f32(uint16_t(t.data[2 * i] | (t.data[2 * i + 1] << 8)));
                break;
            case DType::F16:
                for (int64_t i = 0; i < n; ++i) out[i] = kernels::f16_to_f32(uint16_t(t.data[2 * i] | (t.data[2 * i + 1] << 8)));
                break;
            case DType::F8_E4M3: {
                const float* tab = kernels::e4m3_table();
                for (int64_t i = 0; i < n; ++i) out[i] = tab[t.data[i]];
                break;
            }
        }
    }

    // A norm weight / bias / f32 vector: F32, BF16 or F16, shape [n].
    std::vector<float> vec(const std::string& name, int64_t n) {
        const TensorInfo& t = get(name);
        if (t.dtype == DType::F8_E4M3) fail(&t, t.name, "dtype F8_E4M3 not allowed here (expected F32, BF16 or F16)");
        check_shape(t, {n});
        std::vector<float> v(static_cast<size_t>(n));
        to_f32(t, v.data());
        return v;
    }

    // The tensor as a Linear: BF16 / FP8 zero-copy (into the mapping), F32 / F16 as an f32 copy in Weights::owned.
    void view(const TensorInfo& t, int64_t out, int64_t in, Linear* L) const {
        L->out = int(out);
        L->in = int(in);
        L->name = t.name;
        if (t.dtype == DType::BF16 || t.dtype == DType::F8_E4M3) {
            L->type = t.dtype == DType::BF16 ? kernels::WType::BF16 : kernels::WType::FP8;
            L->raw = t.data;
        } else {
            L->type = kernels::WType::F32;
            float* f = own(size_t(out * in));
            to_f32(t, f);
            L->raw = f;
        }
    }

    // A plain (unquantised) matrix [out, in]: BF16, F16 or F32.
    Linear plain(const std::string& name, int64_t out, int64_t in) {
        const TensorInfo& t = get(name);
        if (t.dtype == DType::F8_E4M3) fail(&t, t.name, "dtype F8_E4M3 not allowed here (expected BF16, F16 or F32)");
        check_shape(t, {out, in});
        Linear L;
        view(t, out, in, &L);
        return L;
    }

    // A projection: F8_E4M3 with weight_scale_inv [ceil(out/128), ceil(in/128)] f32, or BF16/F16/F32 without scale.
    Linear linear(const std::string& prefix, int64_t out, int64_t in) {
        const std::string name = prefix + ".weight";
        const TensorInfo& t = get(name);
        check_shape(t, {out, in});
        Linear L;
        view(t, out, in, &L);
        if (t.dtype == DType::F8_E4M3) {
            const std::string sname = key(prefix + ".weight_scale_inv");
            const TensorInfo* s = st.find(sname);
            if (!s) fail(&t, t.name, "is F8_E4M3 but " + sname + " is missing");
            const int64_t br = (out + 127) / 128, bc = (in + 127) / 128;
            if (s->dtype == DType::F8_E4M3) fail(s, sname, std::string("dtype ") + dtype_name(s->dtype) + " (expected F32)");
            check_shape(*s, {br, bc});
            done_bytes += int64_t(s->nbytes);
            float* f = own(size_t(br * bc));
            to_f32(*s, f);
            L.scale = f;
            L.scale_ld = int(bc);
        } else if (cfg.fp8_weights && st.find(key(prefix + ".weight_scale_inv"))) {
            fail(&t, t.name, std::string("has a weight_scale_inv but dtype ") + dtype_name(t.dtype) + " (expected F8_E4M3)");
        }
        return L;
    }

    Ffn ffn(const std::string& p, int64_t dim, int64_t inter) {
        Ffn f;
        f.w1 = linear(p + ".gate_proj", inter, dim);
        f.w3 = linear(p + ".up_proj", inter, dim);
        f.w2 = linear(p + ".down_proj", dim, inter);
        return f;
    }
};

// Bytes of the checkpoint's tensors that load_weights reads: all but the ignored MTP layers (layer index >=
// num_hidden_layers). Tensors the engine does not use are counted too; the final progress call covers them.
int64_t loaded_bytes_total(const Config& c, const SafetensorsSet& st) {
    int64_t total = 0;
    for (const auto& kv : st.tensors()) {
        const std::string& n = kv.first;
        bool skip = false;
        for (const std::string pre : {"model.layers.", "layers."})  // HF names, convert.py names
            if (n.compare(0, pre.size(), pre) == 0) skip = std::atoi(n.c_str() + pre.size()) >= c.num_hidden_layers;
        if (skip) continue;
        total += int64_t(kv.second.nbytes);
    }
    return total;
}

}  // namespace

namespace {

// The tensors of one file set, as the whole model (mp == 1, HF names) or as rank `rank` of a checkpoint converted for
// mp ranks (convert.py names, §2.2): then the split tensors have their per-rank shapes (§9) and only this rank's
// routed experts are loaded (the others stay empty in w.layers[l].experts).
Weights load_tensors(const Config& c, const SafetensorsSet& st, const std::string& dir, const Progress& progress, bool demo,
                     int rank, int mp) {
    Weights w;
    Loader ld{c, st, dir, &w, demo};
    const int64_t total = progress ? loaded_bytes_total(c, st) : 0;
    int64_t reported = -1;
    auto report = [&](bool last) {
        const int64_t d = last ? total : std::min(ld.done_bytes, total);
        if (progress && d != reported) progress("validate", d, total);
        reported = d;
    };
    report(false);
    const int64_t D = c.hidden_size, H = c.num_attention_heads / mp, V = c.vocab_size / mp;
    const int64_t E0 = int64_t(rank) * c.n_routed_experts / mp, E1 = int64_t(rank + 1) * c.n_routed_experts / mp;
    w.embed = ld.plain("model.embed_tokens.weight", V, D);
    w.norm = ld.vec("model.norm.weight", D);
    w.head = ld.plain("lm_head.weight", V, D);
    for (int l = 0; l < c.num_hidden_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerWeights L;
        L.attn_norm = ld.vec(p + "input_layernorm.weight", D);
        L.ffn_norm = ld.vec(p + "post_attention_layernorm.weight", D);
        const std::string a = p + "self_attn.";
        L.wq_a = ld.linear(a + "q_a_proj", c.q_lora_rank, D);
        L.q_norm = ld.vec(a + "q_a_layernorm.weight", c.q_lora_rank);
        L.wq_b = ld.linear(a + "q_b_proj", H * (c.qk_nope_head_dim + c.qk_rope_head_dim), c.q_lora_rank);
        L.wkv_a = ld.linear(a + "kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, D);
        L.kv_norm = ld.vec(a + "kv_a_layernorm.weight", c.kv_lora_rank);
        L.wkv_b = ld.linear(a + "kv_b_proj", H * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
        L.wo = ld.linear(a + "o_proj", D, H * c.v_head_dim);
        const std::string ix = a + "indexer.";
        L.idx_wq_b = ld.linear(ix + "wq_b", int64_t(c.index_n_heads) * c.index_head_dim, c.q_lora_rank);
        L.idx_wk = ld.linear(ix + "wk", c.index_head_dim, D);
        L.idx_knorm_w = ld.vec(ix + "k_norm.weight", c.index_head_dim);
        L.idx_knorm_b = ld.vec(ix + "k_norm.bias", c.index_head_dim);
        L.idx_wproj = ld.linear(ix + "weights_proj", c.index_n_heads, D);
        if (l < c.first_k_dense_replace) {
            L.dense = ld.ffn(p + "mlp", D, c.intermediate_size / mp);
        } else {
            L.moe = true;
            L.gate = ld.plain(p + "mlp.gate.weight", c.n_routed_experts, D);
            if (c.gate_bias) L.gate_bias = ld.vec(p + "mlp.gate.e_score_correction_bias", c.n_routed_experts);
            L.experts.resize(size_t(c.n_routed_experts));
            for (int64_t e = E0; e < E1; ++e)
                L.experts[size_t(e)] = ld.ffn(p + "mlp.experts." + std::to_string(e), D, c.moe_intermediate_size);
            if (c.n_shared_experts > 0)
                L.shared = ld.ffn(p + "mlp.shared_experts", D, int64_t(c.moe_intermediate_size) * c.n_shared_experts / mp);
        }
        w.layers.push_back(std::move(L));
        report(false);
    }
    report(true);
    return w;
}

}  // namespace

Weights load_weights(const Config& c, const SafetensorsSet& st, const std::string& dir, const Progress& progress) {
    return load_tensors(c, st, dir, progress, false, 0, 1);
}

Weights load_rank_weights(const Config& c, const SafetensorsSet& st, const std::string& file, int rank, int mp,
                          const Progress& progress) {
    return load_tensors(c, st, file, progress, true, rank, mp);
}

}  // namespace dsv32
