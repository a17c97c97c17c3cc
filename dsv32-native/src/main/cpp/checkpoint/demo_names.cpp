#include "checkpoint/demo_names.h"

#include <cstdlib>
#include <stdexcept>
#include <vector>

namespace dsv32 {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

struct Mapping {
    const char* key;
    const char* name;
    int dim;
};

// convert.py's table (§2.2). The indexer's wq_b, wk, k_norm, weights_proj keep their names and are replicated.
const Mapping kMappings[] = {
    {"embed_tokens", "embed", 0},     {"input_layernorm", "attn_norm", -1}, {"post_attention_layernorm", "ffn_norm", -1},
    {"q_proj", "wq", 0},              {"q_a_proj", "wq_a", -1},             {"q_a_layernorm", "q_norm", -1},
    {"q_b_proj", "wq_b", 0},          {"kv_a_proj_with_mqa", "wkv_a", -1},  {"kv_a_layernorm", "kv_norm", -1},
    {"kv_b_proj", "wkv_b", 0},        {"o_proj", "wo", 1},                  {"gate", "gate", -1},
    {"gate_proj", "w1", 0},           {"down_proj", "w2", 1},               {"up_proj", "w3", 0},
    {"norm", "norm", -1},             {"lm_head", "head", 0},               {"scale", "scale", -1},
    {"wq_b", "wq_b", -1},             {"wk", "wk", -1},                     {"k_norm", "k_norm", -1},
    {"weights_proj", "weights_proj", -1},
};

bool decimal(const std::string& s, int* out) {
    if (s.empty() || s.size() > 6 || (s.size() > 1 && s[0] == '0')) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

}  // namespace

DemoName demo_name(const std::string& hf_name) {
    std::string name = hf_name;
    if (name.compare(0, 6, "model.") == 0) name = name.substr(6);
    replace_all(name, "self_attn", "attn");
    replace_all(name, "mlp", "ffn");
    replace_all(name, "weight_scale_inv", "scale");
    replace_all(name, "e_score_correction_bias", "bias");
    std::vector<std::string> parts;
    for (size_t b = 0;;) {
        const size_t e = name.find('.', b);
        parts.push_back(name.substr(b, e == std::string::npos ? std::string::npos : e - b));
        if (e == std::string::npos) break;
        b = e + 1;
    }
    if (parts.size() < 2) throw std::runtime_error("tensor " + hf_name + ": not a module.parameter name (convert.py needs one)");
    const std::string key = parts[parts.size() - 2];
    const Mapping* m = nullptr;
    for (const Mapping& x : kMappings)
        if (key == x.key) m = &x;
    if (!m) throw std::runtime_error("tensor " + hf_name + ": convert.py has no mapping for \"" + key + "\" (architecture.md §2.2)");
    DemoName d;
    replace_all(name, key, m->name);
    d.name = name;
    d.split_dim = m->dim;
    // convert.py: "experts" in name and "shared_experts" not in name -> a routed expert, index = the third-to-last part
    if (name.find("experts") != std::string::npos && name.find("shared_experts") == std::string::npos) {
        int idx = -1;
        if (parts.size() < 3 || !decimal(parts[parts.size() - 3], &idx))
            throw std::runtime_error("tensor " + hf_name + ": a routed expert without an expert index");
        d.expert = idx;
        d.split_dim = -1;
    }
    return d;
}

std::string rank_file_name(int rank, int mp) {
    return "model" + std::to_string(rank) + "-mp" + std::to_string(mp) + ".safetensors";
}

bool parse_rank_file_name(const std::string& f, int* rank, int* mp) {
    const std::string pre = "model", suf = ".safetensors";
    if (f.size() <= pre.size() + suf.size() || f.compare(0, pre.size(), pre) != 0 ||
        f.compare(f.size() - suf.size(), suf.size(), suf) != 0)
        return false;
    const std::string mid = f.substr(pre.size(), f.size() - pre.size() - suf.size());  // "{r}-mp{N}"
    const size_t dash = mid.find("-mp");
    if (dash == std::string::npos) return false;
    int r = 0, n = 0;
    if (!decimal(mid.substr(0, dash), &r) || !decimal(mid.substr(dash + 3), &n) || n < 1 || r >= n) return false;
    *rank = r;
    *mp = n;
    return true;
}

}  // namespace dsv32
