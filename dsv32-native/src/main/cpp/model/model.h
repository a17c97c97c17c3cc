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
#include <stdexcept>
#include <string>
#include <vector>

#include "dsv32/config.h"
#include "kernels/kernels.h"
#include "kernels/pair_tiles.h"
#include "kernels/panels.h"
#include "parallel/cpu_collective.h"
#include "model/kv_cache.h"
#include "model/weight_arena.h"
#include "model/workspace.h"

namespace dsv32 {

class SafetensorsSet;

enum DebugFlags {
    DEBUG_INDEXER_ROPE_INTERLEAVED = 1,
    DEBUG_NO_YARN = 2,
    DEBUG_NO_GATE_BIAS = 4,
    DEBUG_DENSE_ATTENTION = 16,  // not a bug: attend to every cached key (DSV32_DEBUG_DENSE_ATTENTION)
};

struct Linear {  // y = W x, W [out, in] row-major, in its checkpoint dtype: a view, it owns nothing
    int out = 0, in = 0;
    kernels::WType type = kernels::WType::F32;
    const void* raw = nullptr;     // element (0, 0): in the mapping (FP8 / BF16) or in Weights::owned (F32 / F16 sources)
    int ld = 0;                    // row stride of raw in elements; 0 = in (a row-parallel shard views columns: ld > in)
    const float* scale = nullptr;  // FP8: weight_scale_inv block (0, 0), in Weights::owned
    int scale_ld = 0;              // FP8: row stride of the scales (ceil(in / 128) of the whole tensor)
    std::string name;              // the checkpoint tensor (prefix.weight), for error messages
    // The bytes the view spans from raw: out rows of `in` elements at its row stride.
    size_t view_bytes() const { return ((size_t(out) - 1) * mat().stride() + size_t(in)) * kernels::wtype_bytes(type); }
    kernels::WeightMat mat() const {
        kernels::WeightMat m;
        m.type = type;
        m.out = out;
        m.in = in;
        m.data = raw;
        m.ld = ld;
        m.scale = scale;
        m.scale_cols = scale_ld;
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
    // The f32 copies the Linears point into (scales; weights stored as F32 / F16). Every Linear, here and in the
    // rank shards, is a view into these or into the checkpoint mapping: this is the one owner.
    std::vector<std::unique_ptr<float[]>> owned;
};

// Load progress: (stage, done, total), called on the opening thread; done is non-decreasing within a stage and
// the stage's last call has done == total. Stages in order: "map" (bytes of the safetensors files mapped and their
// headers validated), "validate" (bytes of the tensors found and checked against the config), "shard" (bytes of the
// tensors split for the model-parallel ranks), then "pack" (bytes of the weights repacked or copied for the kernels:
// the layers' matrices into the weight arena, the head's row panels, the W_UK pair tiles; Model::init_ranks) when any
// are. An empty function reports nothing.
using Progress = std::function<void(const char* stage, int64_t done, int64_t total)>;

// Loads and validates every tensor; throws std::runtime_error naming the file and tensor.
Weights load_weights(const Config& cfg, const SafetensorsSet& st, const std::string& dir, const Progress& progress = {});

// Rank `rank`'s file of a checkpoint converted for mp ranks (model{rank}-mp{mp}.safetensors, convert.py names,
// architecture.md §2.2): the replicated tensors whole, the split ones with their per-rank shapes (in the fields of the
// whole tensors: embed, head, wq_b, wkv_b, wo, dense, shared), and only this rank's routed experts (the others empty).
// Throws std::runtime_error naming the file and tensor on a missing tensor or a wrong shape or dtype.
Weights load_rank_weights(const Config& cfg, const SafetensorsSet& st, const std::string& file, int rank, int mp,
                          const Progress& progress = {});

// Rank `rank`'s slices of the model-parallel weights, split as the official convert.py does (architecture.md §2.2,
// §9): column-parallel wq_b, wkv_b, w1, w3 on dim 0 (whole heads / inter rows), row-parallel wo, w2 on dim 1,
// embed and head vocab rows on dim 0, routed experts whole (rank r runs [r*E/mp, (r+1)*E/mp)); everything else
// (wq_a, wkv_a, norms, the indexer §7, the gate) is replicated and read from Weights. Views only (zero copy); with
// mp == 1 the slices are the whole tensors.
struct RankWeights {
    int rank = 0, mp = 1;
    int vocab0 = 0;            // embed / head hold vocab rows [vocab0, vocab0 + head.out)
    Linear embed, head;
    struct Layer {
        Linear wq_b, wkv_b, wo;        // heads [rank*H/mp, (rank+1)*H/mp)
        Ffn dense, shared;             // inter columns [rank*I/mp, (rank+1)*I/mp)
        int expert0 = 0, expert1 = 0;  // routed experts run here (global indices)
    };
    std::vector<Layer> layers;
};

// The checkpoint cannot be split for the requested mp (an option error, not a broken checkpoint).
struct ShardError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Throws ShardError naming the config.json fields mp does not divide (each is split across the ranks, §2.2).
void check_split_config(const Config& cfg, int mp);

// Splits w for mp ranks (model/shard.cpp). Validates first, throwing ShardError that names the config field or
// the tensors and the reason when mp does not divide a split dimension or an FP8 tensor's per-rank slice is not a
// whole number of 128-wide scale blocks.
std::vector<RankWeights> shard_weights(const Config& cfg, const Weights& w, int mp, const Progress& progress = {});

// One entry of a forward step: the next n tokens of sequence seq of a KvCache (positions len .. len+n-1).
struct StepEntry {
    int seq = 0;
    const int32_t* tokens = nullptr;
    int n = 0;
};

// RoPE table: cos/sin per position and frequency (computed on demand per position).
struct Rope {
    int dim = 0;                 // rotary width (qk_rope_head_dim)
    std::vector<float> freqs;    // [dim/2]
    void init(const Config& cfg, bool yarn);
    // Rotates x[0..dim) at position pos. interleaved: pairs (2i, 2i+1); else pairs (i, i+dim/2).
    void apply(float* x, int pos, bool interleaved) const;
    // cs[0..dim/2) = cos, cs[dim/2..dim) = sin of position pos's angles: computed once per position, then applied to
    // every head with apply(x, cs, interleaved) (the same values as apply(x, pos, interleaved)).
    void table(int pos, float* cs) const;
    void apply(float* x, const float* cs, bool interleaved) const;
};

// What a forward pass runs as: its model-parallel rank, that rank's worker threads, the group's collective and the
// rank's weight slices. model/ranks.cpp sets it on each rank's thread for the duration of a forward pass.
struct RankCtx {
    int rank = 0, mp = 1;
    int n_threads = 1;
    Collective* coll = nullptr;
    const RankWeights* w = nullptr;
};

// A checkpoint converted for mp ranks (model/converted.cpp): the rank files' mappings, the replicated weights (with
// every rank's routed experts at their global indices) and each rank's slices, as shard_weights would give them.
struct ConvertedWeights {
    std::vector<std::shared_ptr<const SafetensorsSet>> files;  // one per rank: the mappings the weights point into
    Weights w;                                                 // the split tensors (embed, head, wq_b, ...) left empty
    std::vector<RankWeights> ranks;
};

// Opens the converted checkpoint in dir at mp ranks: the rank files model{r}-mp{N}.safetensors must be all there and
// N == mp (else ShardError naming N and the files); with a manifest (dsv32-convert.json, model/convert.h) every file's
// size must match it, and with verify_checksums its SHA-256 too. Stages: "verify" (only with verify_checksums),
// "map", "validate", "shard". Throws std::runtime_error naming the file (and tensor).
ConvertedWeights load_converted(const Config& cfg, const std::string& dir, int mp, bool verify_checksums,
                                const Progress& progress = {});

// Whether dir holds converted rank files (model{r}-mp{N}.safetensors); throws for rank files of more than one mp.
bool is_converted_dir(const std::string& dir);

// Optional observer of the indexer selections: (layer, query position, sorted selected key positions).
using TopkObserver = std::function<void(int layer, int pos, const std::vector<int>& keys)>;

class Model {
public:
    // mp > 1: the split weights of shard_weights, run by mp ranks (threads) that share n_threads worker threads
    // (model/ranks.cpp). progress (may be empty) is called during construction on this thread.
    // A directory with converted rank files (is_converted_dir) is opened by load_converted: each rank reads its own
    // file (mp must be the mp it was converted for); verify_checksums applies to those only. fp8_numerics: the
    // numerics it runs in, fixed at construction (the weights repacked for the kernels depend on them: the W_UK pair
    // tiles serve the fp8 numerics only).
    Model(const std::string& dir, int max_seq_len, int n_threads, int debug_flags, int mp = 1, const Progress& progress = {},
          bool verify_checksums = false, bool fp8_numerics = false);
    const Config& config() const { return cfg_; }
    int max_seq_len() const { return max_seq_len_; }
    int n_threads() const { return n_threads_; }
    int mp() const { return mp_; }
    // fp8 numerics (the official demo's): bf16 activations, act_quant (ue8m0) before every FP8 GEMM with bf16
    // output, FP8 round trip of the cached latent, FP8 indexer q/k, the absorbed decode attention's query and
    // probabilities in bf16 (model/mla.cpp). Off = f32 numerics (the golden reference). Set by the constructor.
    bool fp8_numerics() const { return fp8_; }
    // Bytes of weights one decode step reads (every matrix once, routed experts: only the active ones).
    double decode_weight_bytes() const;
    float softmax_scale() const { return softmax_scale_; }
    const Rope& rope() const { return rope_; }

    // One forward step for a batch of sequences (architecture.md §5). The tokens of all entries are stacked into one
    // activation matrix [M, dim] (M = sum of n): embedding, norms and every linear layer run once over the M rows,
    // so each weight is read once per step; attention, the indexer's selection and the cache writes go per entry
    // (an entry with n > 1 is a prefill chunk on the MHA path over its cached and new positions, n == 1 the
    // absorbed decode path). The cache must hold reserved blocks for the new positions (KvCache::reserve); the
    // lengths are not advanced (the caller commits after success). logits: one row of vocab per token, in entry
    // order, or with last_only one row per entry (its last token; the final norm and head run on those rows only).
    // With mp > 1 every rank runs the step on its slices (model/ranks.cpp); the logits come from the head all-gather.
    void forward(KvCache& cache, const std::vector<StepEntry>& entries, float* logits, bool last_only) const;

    TopkObserver topk_observer;  // called by rank 0 only

private:
    // One entry's rows within a step: rows [row0, row0 + n) of the stacked activations, positions start .. start+n-1.
    struct Segment {
        int seq, row0, n, start;
    };
    struct Step {
        KvCache* cache;
        const std::vector<StepEntry>* entries;
        const std::vector<Segment>& segs;
        int rows;  // M
    };
    // One rank's part of forward (transformer.cpp); logits is null on ranks other than 0.
    void forward_rank(const Step& st, float* logits, bool last_only) const;
    // The rank this thread runs as (set by forward; model/ranks.cpp). Throws outside a forward pass.
    const RankCtx& rank() const;
    const RankWeights::Layer& shard(int l) const { return rank().w->layers[size_t(l)]; }
    int threads() const { return rank().n_threads; }
    // Shards the weights for mp ranks (unless ranks_ came from a converted checkpoint) and starts the rank threads
    // (model/ranks.cpp).
    void init_ranks(int mp, const Progress& progress);
    // The head's logits y [S, head.out] for S rows of x on this rank: from head_panels_ on the AVX-512 path, else
    // kernels::linear on the head as stored (model/ranks.cpp).
    void head_linear(const float* x, int S, float* y, kernels::XValues xv) const;
    // Model parallelism: sum a partial result over the ranks (no-op at mp == 1), and wait for all ranks.
    void all_reduce(float* x, size_t n) const;
    void rank_barrier() const;

    void attention(int l, const float* x, const Step& st, float* out) const;
    // Fills (*selected)[row] with the sorted key positions row attends to (one vector per row of the step; kv[i] is
    // entry i's cache view). ReusedList (workspace.h): the rows keep their memory from step to step.
    void indexer(int l, const float* x, const float* qr, const Step& st, const ReusedList<KvCache::View>& kv,
                 ReusedList<std::vector<int>>* selected) const;
    void ffn(int l, const float* x, int S, float* out) const;
    void moe(int l, const float* x, int S, float* out) const;
    void swiglu(const Ffn& f, const float* x, int S, float* out) const { swiglu(f, x, S, out, threads()); }
    // n_threads explicit: no rank() lookup, so it may run on any thread (moe() runs experts on the worker threads).
    void swiglu(const Ffn& f, const float* x, int S, float* out, int n_threads) const;
    void linear(const Linear& L, const float* x, int S, float* y) const;
    void linear(const Linear& L, const float* x, int S, float* y, int n_threads) const;
    // linear(A, x) -> ya and linear(B, x) -> yb, bitwise, in one call where the fp8 numerics allow
    // (kernels::linear_fp8_parts: one parallel region over both matrices' rows).
    void linear_pair(const Linear& A, float* ya, const Linear& B, float* yb, const float* x, int S, int n_threads) const;

    Config cfg_;
    std::shared_ptr<const SafetensorsSet> st_;  // the mappings the weights point into
    std::vector<std::shared_ptr<const SafetensorsSet>> rank_files_;  // a converted checkpoint's (st_ is null then)
    Weights w_;
    Rope rope_;
    int max_seq_len_;
    int n_threads_;
    int debug_flags_;
    int mp_ = 1;
    std::vector<RankWeights> ranks_;           // views into w_, one per rank
    std::vector<RankCtx> rank_ctx_;            // one per rank
    // Per rank: its BF16 head repacked in row panels (kernels/panels.h) when the CPU has the AVX-512 path, for the
    // batched decode's head GEMV; empty otherwise (or with DSV32_HEAD_PANELS=0). Owns its copy: +2 bytes per weight.
    std::vector<kernels::Bf16Panels> head_panels_;
    // Per rank and layer: the W_UK bands of its wkv_b (one per head) in FP8 pair tiles (kernels/pair_tiles.h), for the
    // fp8 numerics' absorbed decode on a CPU with AVX512-BF16, when the model opens in fp8 numerics; empty otherwise.
    // A copy: +1 byte per W_UK weight.
    std::vector<std::vector<kernels::Fp8PairTiles>> wuk_tiles_;
    // The layers' FP8 / BF16 matrices in huge-page memory (weight_arena.h) when it is not empty: the Linears of w_ and
    // ranks_ then point into it. Owns the copy.
    WeightArena weight_arena_;
    std::unique_ptr<CpuCollective> coll_;      // mp > 1
    std::unique_ptr<RankGroup> group_;         // mp > 1: the rank threads
    float softmax_scale_;
    bool fp8_ = false;
    void bf16(float* x, size_t n) const {  // fp8 numerics: activations are bf16
        if (fp8_) kernels::round_bf16(x, n);
    }
};

}  // namespace dsv32

#endif
