#include "dsv32/config.h"

#include <cmath>
#include <stdexcept>

#include "checkpoint/json.h"

namespace dsv32 {

namespace {

struct Reader {
    const Json& root;
    const std::string& file;

    [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(file + ": " + what); }

    int get_int(const char* key, bool required = true, int dflt = 0, int min_value = 1) const {
        const Json* v = root.find(key);
        if (!v || v->is_null()) {
            if (required) fail(std::string("missing field \"") + key + "\"");
            return dflt;
        }
        if (!v->is_number() || v->as_number() != std::floor(v->as_number()) || v->as_number() < min_value ||
            v->as_number() > 1e9)
            fail(std::string("field \"") + key + "\" must be an integer >= " + std::to_string(min_value));
        return int(v->as_number());
    }
    double get_num(const Json& obj, const char* key, bool required, double dflt) const {
        const Json* v = obj.find(key);
        if (!v || v->is_null()) {
            if (required) fail(std::string("missing field \"") + key + "\"");
            return dflt;
        }
        if (!v->is_number() || !std::isfinite(v->as_number()))
            fail(std::string("field \"") + key + "\" must be a number");
        return v->as_number();
    }
    std::string get_str(const Json& obj, const char* key, const char* dflt) const {
        const Json* v = obj.find(key);
        if (!v || v->is_null()) return dflt;
        if (!v->is_string()) fail(std::string("field \"") + key + "\" must be a string");
        return v->as_string();
    }
};

}  // namespace

Config parse_config(const std::string& text, const std::string& file) {
    Json root;
    try {
        root = Json::parse(text);
    } catch (const std::exception& e) {
        throw std::runtime_error(file + ": " + e.what());
    }
    Reader r{root, file};
    if (!root.is_object()) r.fail("not a JSON object");
    if (!root.find("hidden_size") && root.find("dim"))
        r.fail("not a Hugging Face config (demo ModelArgs field \"dim\" found, \"hidden_size\" missing); "
               "use the HF config.json of the checkpoint");
    std::string mt = r.get_str(root, "model_type", "");
    if (!mt.empty() && mt != "deepseek_v32" && mt != "deepseek_v3")
        r.fail("model_type \"" + mt + "\" is not deepseek_v32");

    Config c;
    c.vocab_size = r.get_int("vocab_size");
    c.hidden_size = r.get_int("hidden_size");
    c.intermediate_size = r.get_int("intermediate_size");
    c.moe_intermediate_size = r.get_int("moe_intermediate_size");
    c.num_hidden_layers = r.get_int("num_hidden_layers");
    c.first_k_dense_replace = r.get_int("first_k_dense_replace", false, 0, 0);
    c.num_attention_heads = r.get_int("num_attention_heads");
    c.n_routed_experts = r.get_int("n_routed_experts");
    c.n_shared_experts = r.get_int("n_shared_experts", false, 0, 0);
    c.num_experts_per_tok = r.get_int("num_experts_per_tok");
    c.n_group = r.get_int("n_group", false, 1);
    c.topk_group = r.get_int("topk_group", false, 1);
    c.routed_scaling_factor = r.get_num(root, "routed_scaling_factor", false, 1.0);
    c.q_lora_rank = r.get_int("q_lora_rank");
    c.kv_lora_rank = r.get_int("kv_lora_rank");
    c.qk_nope_head_dim = r.get_int("qk_nope_head_dim");
    c.qk_rope_head_dim = r.get_int("qk_rope_head_dim");
    c.v_head_dim = r.get_int("v_head_dim");
    c.index_n_heads = r.get_int("index_n_heads");
    c.index_head_dim = r.get_int("index_head_dim");
    c.index_topk = r.get_int("index_topk");
    c.rms_norm_eps = r.get_num(root, "rms_norm_eps", false, 1e-6);
    c.max_position_embeddings = r.get_int("max_position_embeddings");
    c.rope_theta = r.get_num(root, "rope_theta", false, 10000.0);

    if (const Json* nkv = root.find("num_key_value_heads"))
        if (nkv->is_number() && int(nkv->as_number()) != c.num_attention_heads)
            r.fail("num_key_value_heads must equal num_attention_heads");
    std::string sf = r.get_str(root, "scoring_func", "sigmoid");
    if (sf != "sigmoid") r.fail("scoring_func \"" + sf + "\" is not supported (only sigmoid)");
    std::string tm = r.get_str(root, "topk_method", "noaux_tc");
    c.gate_bias = (tm == "noaux_tc");
    if (const Json* v = root.find("indexer_rope_interleave")) {
        if (!v->is_bool()) r.fail("field \"indexer_rope_interleave\" must be a boolean");
        c.indexer_rope_interleaved = v->as_bool();
    }
    if (const Json* v = root.find("tie_word_embeddings"))
        if (v->is_bool() && v->as_bool()) r.fail("tie_word_embeddings true is not supported");

    if (const Json* rs = root.find("rope_scaling"); rs && !rs->is_null()) {
        if (!rs->is_object()) r.fail("rope_scaling must be an object");
        std::string t = r.get_str(*rs, "type", "");
        if (t.empty()) t = r.get_str(*rs, "rope_type", "");
        if (t == "yarn") {
            c.yarn = true;
            c.rope_factor = r.get_num(*rs, "factor", true, 1.0);
            c.original_max_position_embeddings = int(r.get_num(*rs, "original_max_position_embeddings", true, 0));
            c.beta_fast = r.get_num(*rs, "beta_fast", false, 32);
            c.beta_slow = r.get_num(*rs, "beta_slow", false, 1);
            c.mscale = r.get_num(*rs, "mscale", false, 1.0);
            c.mscale_all_dim = r.get_num(*rs, "mscale_all_dim", false, 0.0);
            if (c.rope_factor < 1 || c.original_max_position_embeddings < 1)
                r.fail("rope_scaling: factor must be >= 1 and original_max_position_embeddings >= 1");
        } else if (!t.empty()) {
            r.fail("rope_scaling type \"" + t + "\" is not supported (only yarn)");
        }
    }
    if (const Json* q = root.find("quantization_config"); q && !q->is_null()) {
        if (!q->is_object()) r.fail("quantization_config must be an object");
        std::string qm = r.get_str(*q, "quant_method", "");
        if (qm != "fp8") r.fail("quantization_config.quant_method \"" + qm + "\" is not supported (only fp8)");
        c.fp8_weights = true;
        if (const Json* bs = q->find("weight_block_size")) {
            if (!bs->is_array() || bs->items().size() != 2 || !bs->items()[0].is_number() ||
                bs->items()[0].as_number() != 128 || !bs->items()[1].is_number() || bs->items()[1].as_number() != 128)
                r.fail("quantization_config.weight_block_size must be [128, 128]");
        }
    }

    // Structural checks.
    if (c.first_k_dense_replace > c.num_hidden_layers) r.fail("first_k_dense_replace > num_hidden_layers");
    if (c.n_routed_experts % c.n_group != 0) r.fail("n_routed_experts must be divisible by n_group");
    if (c.topk_group > c.n_group) r.fail("topk_group > n_group");
    if (c.num_experts_per_tok > c.topk_group * (c.n_routed_experts / c.n_group))
        r.fail("num_experts_per_tok exceeds the experts of topk_group groups");
    if (c.gate_bias && c.n_routed_experts / c.n_group < 2) r.fail("noaux_tc routing needs >= 2 experts per group");
    if (c.qk_rope_head_dim % 2 != 0) r.fail("qk_rope_head_dim must be even");
    if (c.index_head_dim != 128) r.fail("index_head_dim must be 128");
    if (c.qk_rope_head_dim > c.index_head_dim) r.fail("qk_rope_head_dim > index_head_dim");
    return c;
}

}  // namespace dsv32
