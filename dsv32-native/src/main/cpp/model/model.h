// model.h: the f32 reference engine (internal C++ API; the C API in api.cpp wraps it).
//
// Weights stay as stored: FP8 e4m3 bytes and BF16 matrices are zero-copy views into the mmap'd checkpoint (the
// Model keeps the mappings alive), dequantised on the fly inside kernels::linear (W = W8 * scale_inv[r/128][c/128],
// the same values the slice-1 loader stored). Activations, caches, scores and softmax are f32.
#ifndef DSV32_MODEL_MODEL_H
#define DSV32_MODEL_MODEL_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dsv32/config.h"
#include "kernels/kernels.h"

namespace dsv32 {

class SafetensorsSet;

enum DebugFlags {
    DEBUG_INDEXER_ROPE_INTERLEAVED = 1,
    DEBUG_NO_YARN = 2,
    DEBUG_NO_GATE_BIAS = 4,
};

struct Linear {  // y = W x, W [out, in] row-major, in its checkpoint dtype
    int out = 0, in = 0;
    kernels::WType type = kernels::WType::F32;
    const void* raw = nullptr;  // FP8 / BF16: the tensor's bytes inside the mapping
    std::vector<float> f32;     // F32 / F16 sources: an owned f32 copy
    std::vector<float> scale;   // FP8: weight_scale_inv [ceil(out/128), ceil(in/128)]
    kernels::WeightMat mat() const {
        kernels::WeightMat m;
        m.type = type;
        m.out = out;
        m.in = in;
        m.data = type == kernels::WType::F32 ? static_cast<const void*>(f32.data()) : raw;
        m.scale = scale.empty() ? nullptr : scale.data();
        m.scale_cols = (in + 127) / 128;
        return m;
    }
};

struct Ffn {  // SwiGLU: w2(silu(w1 x) * w3 x)
    Linear w1, w2, w3;
};

struct LayerWeights {
    std::vector<float> attn_norm, ffn_norm;
    Linear wq_a, wq_b, wkv_a, wkv_b, wo;
    std::vector<float> q_norm, kv_norm;
    // indexer
    Linear idx_wq_b, idx_wk, idx_wproj;
    std::vector<float> idx_knorm_w, idx_knorm_b;
    // ffn
    bool moe = false;
    Ffn dense;
    Linear gate;                   // [E, dim]
    std::vector<float> gate_bias;  // [E] (empty when the config has no noaux_tc bias)
    std::vector<Ffn> experts;
    Ffn shared;
};

struct Weights {
    Linear embed;              // [vocab, dim] (rows read by dequant_row)
    std::vector<float> norm;   // [dim]
    Linear head;               // [vocab, dim]
    std::vector<LayerWeights> layers;
};

// Loads and validates every tensor; throws std::runtime_error naming the file and tensor.
Weights load_weights(const Config& cfg, const SafetensorsSet& st, const std::string& dir);

// Per-sequence caches (one entry per processed position, per layer), f32.
struct SeqCache {
    int len = 0;
    struct Layer {
        std::vector<float> latent;  // [len, kv_lora_rank] normalised latent
        std::vector<float> k_pe;    // [len, qk_rope_head_dim] after RoPE
        std::vector<float> idx_k;   // [len, index_head_dim] indexer key after LayerNorm, RoPE, Hadamard
    };
    std::vector<Layer> layers;
};

// RoPE table: cos/sin per position and frequency (computed on demand per position).
struct Rope {
    int dim = 0;                 // rotary width (qk_rope_head_dim)
    std::vector<float> freqs;    // [dim/2]
    void init(const Config& cfg, bool yarn);
    // Rotates x[0..dim) at position pos. interleaved: pairs (2i, 2i+1); else pairs (i, i+dim/2).
    void apply(float* x, int pos, bool interleaved) const;
};

// Optional observer of the indexer selections: (layer, query position, sorted selected key positions).
using TopkObserver = std::function<void(int layer, int pos, const std::vector<int>& keys)>;

class Model {
public:
    Model(const std::string& dir, int max_seq_len, int n_threads, int debug_flags);
    const Config& config() const { return cfg_; }
    int max_seq_len() const { return max_seq_len_; }
    int n_threads() const { return n_threads_; }
    // fp8 numerics (the official demo's): bf16 activations, act_quant (ue8m0) before every FP8 GEMM with bf16
    // output, FP8 round trip of the cached latent, FP8 indexer q/k. Off = f32 numerics (the golden reference).
    void set_fp8_numerics(bool on) { fp8_ = on; }
    bool fp8_numerics() const { return fp8_; }
    // Bytes of weights one decode step reads (every matrix once, routed experts: only the active ones).
    double decode_weight_bytes() const;
    float softmax_scale() const { return softmax_scale_; }
    const Rope& rope() const { return rope_; }

    // Runs n tokens of one sequence starting at cache->len; appends to the cache and writes n * vocab logits.
    void forward(SeqCache* cache, const int32_t* tokens, int n, float* logits) const;

    TopkObserver topk_observer;

private:
    void attention(int l, const float* x, int S, int start, SeqCache::Layer* c, float* out) const;
    void indexer(int l, const float* x, const float* qr, int S, int start, SeqCache::Layer* c,
                 std::vector<std::vector<int>>* selected) const;
    void ffn(int l, const float* x, int S, float* out) const;
    void moe(int l, const float* x, int S, float* out) const;
    void swiglu(const Ffn& f, const float* x, int S, float* out) const;
    void linear(const Linear& L, const float* x, int S, float* y) const;

    Config cfg_;
    std::shared_ptr<const SafetensorsSet> st_;  // the mappings the weights point into
    Weights w_;
    Rope rope_;
    int max_seq_len_;
    int n_threads_;
    int debug_flags_;
    float softmax_scale_;
    bool fp8_ = false;
    void bf16(float* x, size_t n) const {  // fp8 numerics: activations are bf16
        if (fp8_) kernels::round_bf16(x, n);
    }
};

}  // namespace dsv32

#endif
