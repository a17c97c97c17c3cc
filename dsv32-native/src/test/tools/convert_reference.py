#!/usr/bin/env python3
"""Cross-check of dsv32 convert against the official convert.py (architecture.md §2.2), transcribed line by line onto
raw numpy bytes (no torch): the tensors convert.py would write for each rank of SRC (a single-file HF checkpoint) must be
exactly the tensors of DST/model{rank}-mp{MP}.safetensors (names, dtypes, shapes, bytes).

    convert_reference.py SRC DST MP      exit 0: identical; 1: differences (listed); 77: numpy missing (skipped)
"""
import json, struct, sys
try:
    import numpy as np
except ImportError:
    print("convert_reference.py: numpy is not installed: skipped")
    sys.exit(77)
mapping = {"embed_tokens": ("embed", 0), "input_layernorm": ("attn_norm", None), "post_attention_layernorm": ("ffn_norm", None),
    "q_proj": ("wq", 0), "q_a_proj": ("wq_a", None), "q_a_layernorm": ("q_norm", None), "q_b_proj": ("wq_b", 0),
    "kv_a_proj_with_mqa": ("wkv_a", None), "kv_a_layernorm": ("kv_norm", None), "kv_b_proj": ("wkv_b", 0), "o_proj": ("wo", 1),
    "gate": ("gate", None), "gate_proj": ("w1", 0), "down_proj": ("w2", 1), "up_proj": ("w3", 0), "norm": ("norm", None),
    "lm_head": ("head", 0), "scale": ("scale", None), "wq_b": ("wq_b", None), "wk": ("wk", None), "k_norm": ("k_norm", None),
    "weights_proj": ("weights_proj", None)}
SZ = {"F8_E4M3": 1, "BF16": 2, "F16": 2, "F32": 4}
def load(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); base = 8 + n
    out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]; raw = np.frombuffer(b[base + s:base + e], dtype=np.uint8)
        es = SZ[v["dtype"]]; shape = v["shape"]
        out[k] = (v["dtype"], shape, raw.reshape(shape[:-1] + [shape[-1] * es]) if shape else raw, es)
    return out
src, dst, mp = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = json.load(open(src + "/config.json"))
n_experts, n_layers = cfg["n_routed_experts"], cfg["num_hidden_layers"]
n_local = n_experts // mp
state = [{} for _ in range(mp)]
for name, (dt, shape, arr, es) in load(src + "/model.safetensors").items():
    if name.startswith("model.layers.") and int(name.split(".")[2]) >= n_layers:  # MTP: convert.py's "model.layers.61"
        continue
    if name.startswith("model."): name = name[len("model."):]
    name = name.replace("self_attn", "attn").replace("mlp", "ffn").replace("weight_scale_inv", "scale").replace("e_score_correction_bias", "bias")
    key = name.split(".")[-2]
    new_key, dim = mapping[key]
    name = name.replace(key, new_key)
    for i in range(mp):
        p = arr; shp = list(shape)
        if "experts" in name and "shared_experts" not in name:
            idx = int(name.split(".")[-3])
            if idx < i * n_local or idx >= (i + 1) * n_local: continue
        elif dim is not None:
            assert shape[dim] % mp == 0
            k = shape[dim] // mp; shp[dim] = k
            p = arr[i * k:(i + 1) * k] if dim == 0 else arr[:, i * k * es:(i + 1) * k * es]
        state[i][name] = (dt, shp, p.tobytes())
bad = 0
for i in range(mp):
    ours = load(f"{dst}/model{i}-mp{mp}.safetensors")
    if set(ours) != set(state[i]): print("rank", i, "names differ:", sorted(set(ours) ^ set(state[i]))[:10]); bad += 1
    for k, (dt, shp, by) in state[i].items():
        if k in ours and (ours[k][0] != dt or ours[k][1] != shp or ours[k][2].tobytes() != by): print("rank", i, k, "differs"); bad += 1
    print(f"rank {i}: {len(state[i])} tensors checked")
print("differences:", bad)
sys.exit(1 if bad else 0)
