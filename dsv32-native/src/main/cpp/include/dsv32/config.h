// config.h: the model configuration, read from a Hugging Face DeepSeek-V3.2 config.json (HF field names).
#ifndef DSV32_CONFIG_H
#define DSV32_CONFIG_H

#include <string>

namespace dsv32 {

struct Config {
    int vocab_size = 0;
    int hidden_size = 0;          // dim
    int intermediate_size = 0;    // dense MLP width
    int moe_intermediate_size = 0;
    int num_hidden_layers = 0;    // MTP layers (index num_hidden_layers and up) are ignored
    int first_k_dense_replace = 0;
    int num_attention_heads = 0;
    int n_routed_experts = 0;
    int n_shared_experts = 0;
    int num_experts_per_tok = 0;
    int n_group = 1;
    int topk_group = 1;
    double routed_scaling_factor = 1.0;
    int q_lora_rank = 0;
    int kv_lora_rank = 0;
    int qk_nope_head_dim = 0;
    int qk_rope_head_dim = 0;
    int v_head_dim = 0;
    int index_n_heads = 0;
    int index_head_dim = 0;
    int index_topk = 0;
    double rms_norm_eps = 1e-6;
    int max_position_embeddings = 0;
    double rope_theta = 10000.0;
    // YaRN (rope_scaling.type == "yarn"): applied always, whatever the cache length (architecture.md §4.1 pitfall).
    bool yarn = false;
    double rope_factor = 1.0;
    int original_max_position_embeddings = 0;
    double beta_fast = 32, beta_slow = 1;
    double mscale = 1.0, mscale_all_dim = 1.0;
    // Engine flags the demo hard-codes (architecture.md §16.3).
    bool gate_bias = false;                  // topk_method == "noaux_tc"
    bool indexer_rope_interleaved = false;   // HF indexer_rope_interleave; absent = false
    bool fp8_weights = false;                // quantization_config.quant_method == "fp8"
    int weight_block = 128;
};

// Parses config.json text; throws std::runtime_error naming the field on missing/invalid/non-HF input.
Config parse_config(const std::string& json_text, const std::string& file_name);

}  // namespace dsv32

#endif
