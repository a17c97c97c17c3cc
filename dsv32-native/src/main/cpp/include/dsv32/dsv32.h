/*
 * dsv32.h: the C API of the dsv32 native core, the only functions exported over JNI (JavaCPP maps this header).
 *
 * Coarse by design: open a model, open/close sequences, run one forward step for a batch, close. One call per
 * forward step, not per kernel. Every function returns DSV32_OK (0) or an error code; the message of the last
 * error on the calling thread is dsv32_last_error(). Bad input (files, ids, positions, sizes) is reported, never
 * dereferenced: no call crashes the process on bad input.
 *
 * Threading: a model may be used from one thread at a time (callers serialise; the engine parallelises inside).
 */
#ifndef DSV32_DSV32_H
#define DSV32_DSV32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dsv32_status {
    DSV32_OK = 0,
    DSV32_ERR_INVALID_ARGUMENT = 1, /* a bad argument: null pointer, id out of range, position gap, ... */
    DSV32_ERR_CHECKPOINT = 2,       /* unreadable or inconsistent checkpoint: names the file and tensor */
    DSV32_ERR_CAPACITY = 3,         /* out of cache / sequence capacity */
    DSV32_ERR_INTERNAL = 4,         /* a bug */
    DSV32_ERR_UNAVAILABLE = 5       /* the requested backend cannot run here: not in this build, or no device; the
                                       message says which and contains "not available" */
};

/* Where the model computes. CPU (the default, 0): the f32 / fp8 C++ engine. CUDA: one NVIDIA GPU (sm_90a build;
 * mp 1), DSV32_ERR_UNAVAILABLE when this build has no CUDA backend ("backend cuda is not available in this build")
 * or no device can be used ("backend cuda is not available: no CUDA device (<runtime error>)"). AUTO: CUDA when it
 * can be used, else CPU. dsv32_model_info.backend says which one a model uses. HIP (3): one AMD GPU through
 * libdsv32_hip.so, opened at run time (libdsv32 itself never needs ROCm): DSV32_ERR_UNAVAILABLE with "backend hip is
 * not available in this build", "... libdsv32_hip.so not found (...)" or "... no HIP device (...)"; with a device,
 * the same engine as CUDA (mp 1) on the HIP kernels (no AMD GPU has run it yet). AUTO never picks HIP. */
enum dsv32_backend { DSV32_BACKEND_CPU = 0, DSV32_BACKEND_CUDA = 1, DSV32_BACKEND_AUTO = 2, DSV32_BACKEND_HIP = 3 };

/* Numerics mode (architecture.md; issue "dsv32-native"): f32 = dequantised weights, f32 everywhere;
 * fp8 = the official demo's (bf16 activations, e4m3 activation quantisation, FP8 latent and indexer q/k, the decode
 * attention's query and probabilities in bf16 with f32 sums and an f32 softmax). */
enum dsv32_numerics { DSV32_NUMERICS_DEFAULT = 0, DSV32_NUMERICS_F32 = 1, DSV32_NUMERICS_FP8 = 2 };

typedef struct dsv32_model dsv32_model;

/* Load progress, called by dsv32_model_open on the thread that called it (never concurrently, never after it
 * returns): stage is "map" (bytes of the *.safetensors files mapped and their headers validated), then "validate"
 * (bytes of the tensors found and checked against the config), then "shard" (bytes of the tensors split for the
 * model-parallel ranks; also reported at mp 1, where nothing is split) and then "pack" on the CPU backend (bytes of the
 * weights repacked or copied for its kernels: the layers' matrices into huge-page memory unless DSV32_WEIGHT_ARENA=0 or
 * they do not fit, the head's row panels and the W_UK pair tiles where this CPU's kernels read them),
 * or "upload" (bytes copied to device memory through pinned buffers, about one call per 32 MiB) on the CUDA backend. Within a stage total is
 * fixed and done does not decrease; each stage's last call has done == total. About one call per file, per layer:
 * not per tensor.
 * A callback must return normally; a C++ exception thrown from it is caught and ignored (the load goes on). */
typedef void (*dsv32_progress_fn)(void* user, const char* stage, int64_t done, int64_t total);

typedef struct dsv32_open_options {
    int32_t numerics;        /* enum dsv32_numerics */
    int32_t mp;              /* model-parallel ranks (threads on CPU); 0 or 1 = none. The weights are split as the
                                official convert.py splits them (architecture.md §2.2): every split dimension must be
                                divisible by mp and every FP8 slice whole 128-blocks, else DSV32_ERR_INVALID_ARGUMENT
                                naming the config field or tensor */
    int32_t max_seq_len;     /* cache length per sequence; 0 = the config's max_position_embeddings */
    int32_t max_sequences;   /* sequences open at once; 0 = 8 */
    int32_t n_threads;       /* worker threads; 0 = all cores (shared by the mp ranks: n_threads / mp each, >= 1) */
    int32_t debug_flags;     /* DSV32_DEBUG_* below: break the model on purpose (tests prove the goldens see it) */
    dsv32_progress_fn progress; /* NULL = no progress reports */
    void* progress_user;        /* passed to progress as is */
    /* Paged KV cache (one pool of blocks, dsv32_cache_stats). Blocks are allocated when first needed, up to the
     * pool size, and reused after a sequence frees them; memory is never allocated for the whole pool up front. */
    int32_t kv_block_size;   /* positions per cache block; 0 = 64 */
    int32_t kv_pool_tokens;  /* pool capacity in positions (rounded up to whole blocks); 0 = max_sequences x
                              * max_seq_len rounded up to blocks (every sequence can reach max_seq_len) */
    int32_t verify_checksums; /* a converted directory (dsv32_convert): 1 = check every rank file's SHA-256 against
                               * the manifest before loading (reads every byte: "verify" progress stage); 0 = sizes only */
    int32_t backend;         /* enum dsv32_backend; 0 = CPU */
    int32_t device;          /* GPU device ordinal (backend CUDA / AUTO / HIP); 0 = the first */
} dsv32_open_options;

#define DSV32_DEBUG_INDEXER_ROPE_INTERLEAVED 1 /* use the MLA layout for the indexer RoPE (the pre-fix bug) */
#define DSV32_DEBUG_NO_YARN 2                  /* plain RoPE frequencies and no mscale */
#define DSV32_DEBUG_NO_GATE_BIAS 4             /* ignore e_score_correction_bias when routing */
#define DSV32_DEBUG_KV_ALLOC_FAILS 8           /* fault injection: allocating a KV block fails (std::bad_alloc, as out of
                                                  memory) once half the pool's blocks are allocated; the step reports
                                                  DSV32_ERR_CAPACITY "out of memory" and changes nothing */
/* Not a bug but an engine switch for benchmarks: dense attention, every query attends to every cached key (the
 * indexer still writes its keys but selects no top-k). Same logits as DSA while the context is <= index_topk. */
#define DSV32_DEBUG_DENSE_ATTENTION 16

typedef struct dsv32_model_info {
    int32_t vocab_size;
    int32_t hidden_size;
    int32_t num_layers;
    int32_t max_seq_len;
    int32_t numerics;
    int32_t mp;
    int32_t backend;         /* enum dsv32_backend: CPU, CUDA (what AUTO chose) or HIP */
} dsv32_model_info;

/* One entry of a forward batch: n_tokens tokens of sequence seq, at positions start_pos .. start_pos+n_tokens-1.
 * start_pos must equal the number of tokens the sequence holds now (it appends; dsv32_seq_truncate shortens it).
 * n_tokens > 1 is a prefill chunk (attending to the cached positions too); n_tokens == 1 with start_pos > 0 goes
 * through the absorbed decode path. */
typedef struct dsv32_batch_entry {
    int32_t seq;
    int32_t start_pos;
    int32_t n_tokens;
    const int32_t* tokens;
} dsv32_batch_entry;

/* Opens the Hugging Face checkpoint in dir (config.json + *.safetensors, memory-mapped). options may be NULL.
 * A directory written by dsv32_convert (config.json + model{rank}-mp{N}.safetensors) opens too, each rank reading its
 * own file: options->mp must be N (else DSV32_ERR_INVALID_ARGUMENT naming N); a missing rank file, a file whose size
 * (or, with verify_checksums, SHA-256) differs from the manifest, or a tensor with a wrong shape is
 * DSV32_ERR_CHECKPOINT naming the file (and tensor). */
int dsv32_model_open(const char* dir, const dsv32_open_options* options, dsv32_model** out);
void dsv32_model_close(dsv32_model* model);
int dsv32_model_get_info(const dsv32_model* model, dsv32_model_info* out);

/* The device a model computes on, in words (e.g. "cpu (16 threads)", "NVIDIA H200 (sm_90, 139.8 GiB, driver 13.0)").
 * Valid while the model is open; "" for NULL. */
const char* dsv32_model_device(const dsv32_model* model);
/* DSV32_OK when the backend can be used here (CPU and AUTO always), else DSV32_ERR_UNAVAILABLE with the reason as
 * dsv32_last_error() (the words of dsv32_model_open's error), DSV32_ERR_INVALID_ARGUMENT for an unknown value. */
int dsv32_backend_available(int32_t backend);

/* Sequences: a fresh, empty cache slot; freed by dsv32_seq_close (its cache blocks return to the pool). */
int dsv32_seq_open(dsv32_model* model, int32_t* seq_out);
int dsv32_seq_close(dsv32_model* model, int32_t seq);
/* Forgets positions >= new_len of seq (0 <= new_len <= its length, else DSV32_ERR_INVALID_ARGUMENT); whole blocks
 * past new_len return to the pool. The next entry of seq starts at new_len (multi-turn: re-prefill from the first
 * token that differs). */
int dsv32_seq_truncate(dsv32_model* model, int32_t seq, int32_t new_len);
/* A new sequence *new_seq with the same cached positions as seq (shared prefix). The blocks are shared, copy on
 * write: forking takes no block; the first step that writes into a shared, partly filled block copies it (one
 * block, counted by the capacity check). DSV32_ERR_CAPACITY when all max_sequences slots are open. */
int dsv32_seq_fork(dsv32_model* model, int32_t seq, int32_t* new_seq);

/* Runs one forward step for a batch of entries (at most one per sequence): all tokens of all entries are
 * computed together (each weight read once per step; attention per sequence). logits receives one row of
 * vocab_size floats per token, in batch order (sum of n_tokens rows); logits_len is its length in floats, checked.
 * Before anything is computed the whole step is checked: ids, positions, max_seq_len and the cache blocks every
 * entry needs against the free blocks (DSV32_ERR_CAPACITY naming the sequence and the counts). On any error no
 * sequence changes. */
int dsv32_forward(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len);

/* As dsv32_forward, but logits receives only one row per entry: the logits of the entry's last token (what
 * generation samples from; the final norm and head run on those rows only). logits_len >= n_entries * vocab_size. */
int dsv32_forward_last(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len);

/* The KV cache pool. */
typedef struct dsv32_kv_cache_stats {
    int32_t block_size;        /* positions per block */
    int32_t open_sequences;
    int64_t total_blocks;      /* the pool's capacity */
    int64_t free_blocks;       /* blocks no sequence holds (total_blocks - held) */
    int64_t allocated_blocks;  /* blocks with memory allocated so far (<= total_blocks; kept for reuse) */
    int64_t used_tokens;       /* cached positions of all open sequences (a shared prefix counts once per sequence) */
    int64_t block_bytes;       /* bytes of one block (all layers) */
} dsv32_kv_cache_stats;
int dsv32_cache_stats(const dsv32_model* model, dsv32_kv_cache_stats* out);

/* The message of the last error on this thread ("" if none). Valid until the next call on this thread. */
const char* dsv32_last_error(void);

/* ---- Sampling (src/main/cpp/sampling/sampling.h has the exact algorithm) ----
 * Order: greedy if temperature == 0 (argmax, the lowest id wins ties, the RNG is not used); else candidates =
 * the finite logits ordered by logit descending then id ascending, top-k, w = exp((logit - max) / temperature)
 * in double, top-p nucleus (the shortest prefix of the ordered candidates with mass >= top_p, at least one),
 * renormalise, draw with one SplitMix64 output u in [0, 1) (first candidate whose running mass exceeds u * kept
 * mass). A seed is the initial rng_state as is; the same seed gives the same tokens on every platform.
 * Logits: NaN or +inf is an error; -inf excludes a token (not all may be -inf). */
typedef struct dsv32_sampling_params {
    double temperature; /* >= 0, finite; 0 = greedy (model card default 1.0) */
    double top_p;       /* in (0, 1]; 1 = off (model card default 0.95) */
    int32_t top_k;      /* >= 0; 0 = off */
} dsv32_sampling_params;

/* Samples one token from logits[0 .. vocab). rng_state (the SplitMix64 state) advances by exactly one step per
 * non-greedy call; it may be NULL when temperature == 0. *token_out is set only on DSV32_OK. */
int dsv32_sample(const float* logits, int32_t vocab, const dsv32_sampling_params* params, uint64_t* rng_state,
                 int32_t* token_out);

/* Samples n_rows rows of vocab logits (row-major) in order with the same params and RNG state:
 * tokens_out[r] for row r (the same as n_rows calls of dsv32_sample). On error no row after the bad one is sampled. */
int dsv32_sample_rows(const float* logits, int32_t n_rows, int32_t vocab, const dsv32_sampling_params* params,
                      uint64_t* rng_state, int32_t* tokens_out);

/* One SplitMix64 step (exposed for tests and bindings that reproduce the draws): advances *state, returns the
 * output. */
uint64_t dsv32_splitmix64_next(uint64_t* state);

/* ---- Convert: pre-shard a Hugging Face checkpoint for mp ranks (src/main/cpp/model/convert.h) ----
 * Writes model{rank}-mp{mp}.safetensors into out_dir as the official convert.py does (architecture.md §2.2: its tensor
 * names, each rank's slices, routed experts whole on their rank, dtypes as stored: FP8 bytes and scales unchanged),
 * plus config.json, the *token* files and dsv32-convert.json (mp, the source files, each output file's size and
 * SHA-256). The files are written under temporary names, re-opened and compared tensor by tensor with the engine's
 * own slices of the source and with their checksums, then renamed (the manifest last). Progress stages: "map",
 * "validate", "shard" (opening the source), "convert" (bytes written), "verify" (bytes checked), on the calling thread.
 * Errors: DSV32_ERR_INVALID_ARGUMENT for an mp the checkpoint cannot be split for, a missing source directory, an
 * output directory that is not empty (without force) or is the source; DSV32_ERR_CHECKPOINT for a bad source or a
 * failed write or verification (naming the file and tensor). */
typedef struct dsv32_convert_options {
    int32_t mp;                 /* ranks, >= 1 */
    int32_t n_threads;          /* files written / verified at once; 0 = one per core */
    int32_t force;              /* 1 = out_dir may hold files: rank files, *.safetensors and the manifest there are replaced */
    dsv32_progress_fn progress; /* NULL = no progress reports */
    void* progress_user;
} dsv32_convert_options;

typedef struct dsv32_convert_result {
    int32_t files;    /* rank files written (= mp) */
    int32_t verified; /* 1: every tensor and checksum verified */
    int64_t tensors;  /* tensors in the rank files, all ranks */
    int64_t bytes;    /* bytes of the rank files */
} dsv32_convert_result;

int dsv32_convert(const char* src_dir, const char* out_dir, const dsv32_convert_options* options, dsv32_convert_result* out);

#ifdef __cplusplus
}
#endif

#endif /* DSV32_DSV32_H */
