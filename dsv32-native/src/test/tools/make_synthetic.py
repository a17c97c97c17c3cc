#!/usr/bin/env python3
"""make_synthetic.py: a random DeepSeek-V3.2-shaped checkpoint (config.json + model.safetensors) for speed and
memory measurements, not numerics: FP8 e4m3 block-scaled projections (ue8m0 scales), BF16 embedding / head /
gate / norms, as the real checkpoint stores them. Needs numpy only.

  python3 make_synthetic.py OUT_DIR [--hidden 2048] [--layers 4] [--experts 32] ...   (see --help)
Prints the checkpoint size and the weight bytes one decode token reads (active experts only)."""
import argparse, json, os, struct
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=2048)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--dense-layers", type=int, default=1)
ap.add_argument("--heads", type=int, default=16)
ap.add_argument("--q-lora", type=int, default=768)
ap.add_argument("--kv-lora", type=int, default=512)
ap.add_argument("--inter", type=int, default=5632)
ap.add_argument("--moe-inter", type=int, default=768)
ap.add_argument("--experts", type=int, default=32)
ap.add_argument("--active", type=int, default=4)
ap.add_argument("--vocab", type=int, default=32000)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
D, H, dn, dr, dv = a.hidden, a.heads, 128, 64, 128
ih, inh = 128, 8
cfg = {
    "architectures": ["DeepseekV32ForCausalLM"], "model_type": "deepseek_v32", "vocab_size": a.vocab,
    "hidden_size": D, "num_hidden_layers": a.layers, "first_k_dense_replace": a.dense_layers, "moe_layer_freq": 1,
    "q_lora_rank": a.q_lora, "kv_lora_rank": a.kv_lora, "qk_nope_head_dim": dn, "qk_rope_head_dim": dr,
    "v_head_dim": dv, "n_routed_experts": a.experts, "n_shared_experts": 1, "num_experts_per_tok": a.active,
    "n_group": 4, "topk_group": 2, "scoring_func": "sigmoid", "topk_method": "noaux_tc", "norm_topk_prob": True,
    "routed_scaling_factor": 2.5, "rope_theta": 10000.0,
    "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
                     "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
    "index_n_heads": inh, "index_head_dim": ih, "index_topk": 256, "rms_norm_eps": 1e-6,
    "max_position_embeddings": 4096, "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": False,
    "hidden_act": "silu", "attention_bias": False, "attention_dropout": 0.0, "num_nextn_predict_layers": 0,
    "torch_dtype": "bfloat16",
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128],
                            "activation_scheme": "dynamic", "scale_fmt": "ue8m0"},
    "num_attention_heads": H, "num_key_value_heads": H, "intermediate_size": a.inter,
    "moe_intermediate_size": a.moe_inter,
}
tensors = {}  # name -> (dtype, shape, bytes)
active = [0]

def bf16(name, shape, std=0.02, const=None):
    n = int(np.prod(shape))
    v = np.full(n, const, np.float32) if const is not None else (rng.standard_normal(n, np.float32) * std)
    tensors[name] = ("BF16", list(shape), (v.view(np.uint32) >> 16).astype(np.uint16).tobytes())

def fp8(prefix, out, inn, counted=True):
    # codes with exponent <= 7 (|v| < 2), random sign; scale 2^-6 (ue8m0): |w| < 0.03
    codes = rng.integers(0, 256, size=out * inn, dtype=np.uint8) & 0xBF
    tensors[prefix + ".weight"] = ("F8_E4M3", [out, inn], codes.tobytes())
    sc = np.full(((out + 127) // 128) * ((inn + 127) // 128), 2.0 ** -6, np.float32)
    tensors[prefix + ".weight_scale_inv"] = ("F32", [(out + 127) // 128, (inn + 127) // 128], sc.tobytes())
    if counted:
        active[0] += out * inn + sc.nbytes

bf16("model.embed_tokens.weight", [a.vocab, D], 1.0)
bf16("model.norm.weight", [D], const=1.0)
bf16("lm_head.weight", [a.vocab, D])
active[0] += 2 * a.vocab * D + 2 * D
for l in range(a.layers):
    p = f"model.layers.{l}."
    bf16(p + "input_layernorm.weight", [D], const=1.0)
    bf16(p + "post_attention_layernorm.weight", [D], const=1.0)
    s = p + "self_attn."
    fp8(s + "q_a_proj", a.q_lora, D)
    bf16(s + "q_a_layernorm.weight", [a.q_lora], const=1.0)
    fp8(s + "q_b_proj", H * (dn + dr), a.q_lora)
    fp8(s + "kv_a_proj_with_mqa", a.kv_lora + dr, D)
    bf16(s + "kv_a_layernorm.weight", [a.kv_lora], const=1.0)
    fp8(s + "kv_b_proj", H * (dn + dv), a.kv_lora)
    fp8(s + "o_proj", D, H * dv)
    ix = s + "indexer."
    fp8(ix + "wq_b", inh * ih, a.q_lora)
    fp8(ix + "wk", ih, D)
    bf16(ix + "k_norm.weight", [ih], const=1.0)
    bf16(ix + "k_norm.bias", [ih], const=0.0)
    fp8(ix + "weights_proj", inh, D)
    if l < a.dense_layers:
        for nm, o, i in (("gate_proj", a.inter, D), ("up_proj", a.inter, D), ("down_proj", D, a.inter)):
            fp8(f"{p}mlp.{nm}", o, i)
    else:
        bf16(p + "mlp.gate.weight", [a.experts, D])
        active[0] += 2 * a.experts * D
        tensors[p + "mlp.gate.e_score_correction_bias"] = ("F32", [a.experts], np.zeros(a.experts, np.float32).tobytes())
        for e in range(a.experts):
            for nm, o, i in (("gate_proj", a.moe_inter, D), ("up_proj", a.moe_inter, D), ("down_proj", D, a.moe_inter)):
                fp8(f"{p}mlp.experts.{e}.{nm}", o, i, counted=e < a.active)
        for nm, o, i in (("gate_proj", a.moe_inter, D), ("up_proj", a.moe_inter, D), ("down_proj", D, a.moe_inter)):
            fp8(f"{p}mlp.shared_experts.{nm}", o, i)

os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
header, off = {}, 0
for name, (dt, shape, b) in tensors.items():
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
    off += len(b)
hb = json.dumps(header).encode()
hb += b" " * (-len(hb) % 8)
with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)))
    f.write(hb)
    for name, (dt, shape, b) in tensors.items():
        f.write(b)
print(json.dumps({"checkpoint_bytes": 8 + len(hb) + off, "decode_weight_bytes_per_token": active[0]}))
