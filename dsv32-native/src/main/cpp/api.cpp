// api.cpp: the C API (dsv32.h). Every input is validated before use; errors set a thread-local message.
#include <algorithm>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "dsv32/dsv32.h"
#include "model/backend.h"
#include "model/hip_backend.h"
#include "model/model.h"

struct dsv32_model {
    std::unique_ptr<dsv32::Engine> model;   // the backend that computes (model/backend.h)
    std::unique_ptr<dsv32::KvCache> cache;  // every sequence's cache: the block pool and the block tables (blocks in
                                            // host or device memory, as the engine made it)
    std::string device;                     // dsv32_model_device
    int32_t numerics = DSV32_NUMERICS_F32;
    int32_t mp = 1;
    int32_t max_sequences = 8;
};

namespace {

thread_local std::string g_last_error;

int fail(int code, const std::string& msg) {
    g_last_error = msg;
    return code;
}

int ok() {
    g_last_error.clear();
    return DSV32_OK;
}

constexpr int kDefaultBlockSize = 64;

bool seq_ok(const dsv32_model* m, int32_t seq) { return m->cache->is_open(seq); }

// dsv32_forward and dsv32_forward_last: validate the whole step, check and reserve cache blocks for every entry,
// run it, then advance the sequences. Nothing changes unless the step succeeds.
int run_step(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len,
             bool last_only, const char* fn) {
    // The messages are built only on failure: a valid step allocates nothing here (model/workspace.h).
    auto name = [fn] { return std::string(fn); };
    auto where = [fn](int32_t i) { return std::string(fn) + ": entry " + std::to_string(i) + ": "; };
    if (!model) return fail(DSV32_ERR_INVALID_ARGUMENT, name() + ": model is NULL");
    if (n_entries <= 0 || !entries) return fail(DSV32_ERR_INVALID_ARGUMENT, name() + ": no entries");
    if (!logits) return fail(DSV32_ERR_INVALID_ARGUMENT, name() + ": logits is NULL");
    const dsv32::Config& cfg = model->model->config();
    dsv32::KvCache& cache = *model->cache;
    const int maxlen = model->model->max_seq_len();
    size_t rows = 0;
    thread_local std::vector<char> used;  // reused from step to step, as the lists below
    used.assign(size_t(cache.max_sequences()), 0);
    for (int32_t i = 0; i < n_entries; ++i) {
        const dsv32_batch_entry& e = entries[i];
        if (!seq_ok(model, e.seq)) return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "sequence " + std::to_string(e.seq) + " is not open");
        if (used[size_t(e.seq)]) return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "sequence " + std::to_string(e.seq) + " appears twice");
        used[size_t(e.seq)] = 1;
        const int len = cache.len(e.seq);
        if (e.start_pos != len)
            return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "start_pos " + std::to_string(e.start_pos) +
                                                        " but the sequence has processed " + std::to_string(len) + " tokens");
        if (e.n_tokens <= 0) return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "n_tokens must be > 0");
        if (!e.tokens) return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "tokens is NULL");
        if (int64_t(e.start_pos) + e.n_tokens > maxlen)
            return fail(DSV32_ERR_CAPACITY, where(i) + "positions up to " + std::to_string(int64_t(e.start_pos) + e.n_tokens) +
                                                " exceed max_seq_len " + std::to_string(maxlen));
        for (int32_t t = 0; t < e.n_tokens; ++t)
            if (e.tokens[t] < 0 || e.tokens[t] >= cfg.vocab_size)
                return fail(DSV32_ERR_INVALID_ARGUMENT, where(i) + "token " + std::to_string(t) + " = " + std::to_string(e.tokens[t]) +
                                                            " is outside [0, " + std::to_string(cfg.vocab_size) + ")");
        rows += size_t(e.n_tokens);
    }
    const size_t need = (last_only ? size_t(n_entries) : rows) * size_t(cfg.vocab_size);
    if (logits_len < need)
        return fail(DSV32_ERR_INVALID_ARGUMENT, name() + ": logits_len " + std::to_string(logits_len) + " < " + std::to_string(need));
    // Cache capacity for the whole step, before anything changes.
    thread_local std::vector<std::pair<int, int>> appends;
    thread_local std::vector<int64_t> blocks;
    appends.clear();
    for (int32_t i = 0; i < n_entries; ++i) appends.emplace_back(entries[i].seq, entries[i].n_tokens);
    cache.step_blocks_needed(appends, &blocks);
    int64_t step_blocks = 0;
    for (int64_t b : blocks) step_blocks += b;
    if (step_blocks > cache.free_blocks()) {
        int64_t before = 0;
        for (int32_t i = 0; i < n_entries; ++i) {
            const dsv32_batch_entry& e = entries[i];
            const int64_t b = blocks[size_t(i)];
            if (before + b > cache.free_blocks())
                return fail(DSV32_ERR_CAPACITY,
                            name() + ": entry " + std::to_string(i) + ": sequence " + std::to_string(e.seq) + " needs " +
                                std::to_string(b) + " more KV cache blocks of " + std::to_string(cache.block_size()) +
                                " positions for positions " + std::to_string(e.start_pos) + ".." +
                                std::to_string(int64_t(e.start_pos) + e.n_tokens - 1) + ", but only " +
                                std::to_string(cache.free_blocks() - before) + " of the pool's " +
                                std::to_string(cache.max_blocks()) + " blocks are free (" + std::to_string(cache.free_blocks()) +
                                " before this step, which needs " + std::to_string(step_blocks) +
                                " in all); nothing was run, no sequence changed");
            before += b;
        }
    }
    thread_local std::vector<dsv32::StepEntry> step;
    step.resize(static_cast<size_t>(n_entries));
    for (int32_t i = 0; i < n_entries; ++i) step[size_t(i)] = {entries[i].seq, entries[i].tokens, entries[i].n_tokens};
    auto undo = [&]() {  // give back what reserve took (len was not advanced)
        for (int32_t i = 0; i < n_entries; ++i) cache.truncate(entries[i].seq, cache.len(entries[i].seq));
    };
    try {
        for (int32_t i = 0; i < n_entries; ++i) cache.reserve(entries[i].seq, entries[i].n_tokens);
        model->model->forward(cache, step, logits, last_only);
    } catch (const std::bad_alloc&) {
        undo();
        return fail(DSV32_ERR_CAPACITY, name() + ": out of memory (KV cache blocks or activations); no sequence changed");
    } catch (const std::exception& ex) {
        undo();
        return fail(DSV32_ERR_INTERNAL, name() + ": " + ex.what());
    }
    for (int32_t i = 0; i < n_entries; ++i) cache.commit(entries[i].seq, entries[i].n_tokens);
    return ok();
}

}  // namespace

namespace dsv32 {
// The thread-local last error, for the C API functions in other files (sampling/sampling_api.cpp).
void set_last_error(const std::string& msg) { g_last_error = msg; }
}  // namespace dsv32

extern "C" {

int dsv32_model_open(const char* dir, const dsv32_open_options* options, dsv32_model** out) {
    if (!out) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: out is NULL");
    *out = nullptr;
    if (!dir || !*dir) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: dir is NULL or empty");
    dsv32_open_options o{};
    if (options) o = *options;
    if (o.numerics != DSV32_NUMERICS_DEFAULT && o.numerics != DSV32_NUMERICS_F32 && o.numerics != DSV32_NUMERICS_FP8)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: unknown numerics " + std::to_string(o.numerics));
    if (o.mp < 0 || o.mp > 1024) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: bad mp " + std::to_string(o.mp));
    if (o.max_seq_len < 0) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: negative max_seq_len");
    if (o.max_sequences < 0 || o.max_sequences > 65536)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: bad max_sequences " + std::to_string(o.max_sequences));
    if (o.n_threads < 0 || o.n_threads > 4096) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: bad n_threads");
    if (o.debug_flags & ~(DSV32_DEBUG_INDEXER_ROPE_INTERLEAVED | DSV32_DEBUG_NO_YARN | DSV32_DEBUG_NO_GATE_BIAS | DSV32_DEBUG_KV_ALLOC_FAILS |
                          DSV32_DEBUG_DENSE_ATTENTION))
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: unknown debug_flags bits");
    if (o.kv_block_size < 0 || o.kv_block_size > 65536)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: bad kv_block_size " + std::to_string(o.kv_block_size) + " (0 = 64, at most 65536)");
    if (o.kv_pool_tokens < 0)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: negative kv_pool_tokens " + std::to_string(o.kv_pool_tokens));
    if (o.backend != DSV32_BACKEND_CPU && o.backend != DSV32_BACKEND_CUDA && o.backend != DSV32_BACKEND_AUTO &&
        o.backend != DSV32_BACKEND_HIP)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: unknown backend " + std::to_string(o.backend) +
                                                    " (0 = cpu, 1 = cuda, 2 = auto, 3 = hip)");
    if (o.device < 0) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: negative device " + std::to_string(o.device));
    // Backend selection: cuda / hip must be usable (compiled in and a device present), auto takes cuda when it is
    // (never hip: libdsv32_hip.so is opened only when asked for). HIP: libdsv32_hip.so opened at run time
    // (model/hip_backend.h); it says why it cannot run.
    const bool hip = o.backend == DSV32_BACKEND_HIP;
    if (hip) {
        const std::string why = dsv32::hip_unavailable_reason(o.device);
        if (!why.empty()) return fail(DSV32_ERR_UNAVAILABLE, "dsv32_model_open: " + why);
    }
    bool cuda = o.backend == DSV32_BACKEND_CUDA;
    if (o.backend == DSV32_BACKEND_CUDA || o.backend == DSV32_BACKEND_AUTO) {
        const std::string why = dsv32::cuda_unavailable_reason();
        if (o.backend == DSV32_BACKEND_CUDA && !why.empty()) return fail(DSV32_ERR_UNAVAILABLE, "dsv32_model_open: " + why);
        cuda = why.empty();
    }
    if ((cuda || hip) && o.mp > 1) {
        const std::string b = cuda ? "cuda" : "hip", B = cuda ? "CUDA" : "HIP";
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: backend " + b + " runs on one GPU (mp 1); mp " + std::to_string(o.mp) +
                                                    " is not supported by the " + B + " backend yet");
    }
    dsv32::Progress progress;
    if (o.progress) {
        progress = [&o](const char* stage, int64_t done, int64_t total) {
            try {
                o.progress(o.progress_user, stage, done, total);
            } catch (...) {
                // A throwing callback must not break the load (dsv32.h); nothing to report it to.
            }
        };
    }
    try {
        auto m = std::make_unique<dsv32_model>();
        dsv32::EngineOptions eo;
        eo.dir = dir;
        eo.max_seq_len = o.max_seq_len;
        eo.n_threads = o.n_threads;
        eo.debug_flags = o.debug_flags;
        eo.mp = o.mp > 1 ? o.mp : 1;
        eo.fp8 = o.numerics == DSV32_NUMERICS_FP8;
        eo.device = o.device;
        eo.verify_checksums = o.verify_checksums != 0;
        eo.progress = progress;
        m->model = hip ? dsv32::open_hip_engine(eo) : cuda ? dsv32::open_cuda_engine(eo) : dsv32::open_cpu_engine(eo);
        if (eo.fp8) m->numerics = DSV32_NUMERICS_FP8;
        m->device = m->model->device_name();
        m->mp = o.mp > 1 ? o.mp : 1;
        m->max_sequences = o.max_sequences > 0 ? o.max_sequences : 8;
        const int bs = o.kv_block_size > 0 ? o.kv_block_size : kDefaultBlockSize;
        const int64_t per_seq = (int64_t(m->model->max_seq_len()) + bs - 1) / bs;
        const int64_t blocks = o.kv_pool_tokens > 0 ? (int64_t(o.kv_pool_tokens) + bs - 1) / bs : per_seq * m->max_sequences;
        m->cache = m->model->make_cache(bs, std::max<int64_t>(1, blocks), m->max_sequences);
        if (o.debug_flags & DSV32_DEBUG_KV_ALLOC_FAILS) m->cache->fail_allocations_after(m->cache->max_blocks() / 2);
        *out = m.release();
        return ok();
    } catch (const dsv32::BackendOptionError& e) {  // an option the chosen backend cannot take
        return fail(DSV32_ERR_INVALID_ARGUMENT, std::string("dsv32_model_open: ") + e.what());
    } catch (const dsv32::BackendUnavailable& e) {
        return fail(DSV32_ERR_UNAVAILABLE, std::string("dsv32_model_open: ") + e.what());
    } catch (const std::bad_alloc&) {
        return fail(DSV32_ERR_CAPACITY, std::string("dsv32_model_open: out of memory loading ") + dir);
    } catch (const dsv32::ShardError& e) {  // an option the checkpoint cannot take (mp that does not split it)
        return fail(DSV32_ERR_INVALID_ARGUMENT, std::string("dsv32_model_open: ") + dir + ": " + e.what());
    } catch (const std::exception& e) {
        return fail(DSV32_ERR_CHECKPOINT, e.what());
    } catch (...) {
        return fail(DSV32_ERR_INTERNAL, "dsv32_model_open: unknown exception");
    }
}

void dsv32_model_close(dsv32_model* model) { delete model; }

int dsv32_model_get_info(const dsv32_model* model, dsv32_model_info* out) {
    if (!model || !out) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_get_info: NULL argument");
    const dsv32::Config& c = model->model->config();
    out->vocab_size = c.vocab_size;
    out->hidden_size = c.hidden_size;
    out->num_layers = c.num_hidden_layers;
    out->max_seq_len = model->model->max_seq_len();
    out->numerics = model->numerics;
    out->mp = model->mp;
    const dsv32::BackendKind k = model->model->backend();
    out->backend = k == dsv32::BackendKind::Cuda ? DSV32_BACKEND_CUDA : k == dsv32::BackendKind::Hip ? DSV32_BACKEND_HIP : DSV32_BACKEND_CPU;
    return ok();
}

const char* dsv32_model_device(const dsv32_model* model) {
    if (!model) {
        fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_device: model is NULL");
        return "";
    }
    return model->device.c_str();
}

int dsv32_backend_available(int32_t backend) {
    switch (backend) {
        case DSV32_BACKEND_CPU:
        case DSV32_BACKEND_AUTO:
            return ok();
        case DSV32_BACKEND_CUDA: {
            const std::string why = dsv32::cuda_unavailable_reason();
            return why.empty() ? ok() : fail(DSV32_ERR_UNAVAILABLE, why);
        }
        case DSV32_BACKEND_HIP: {
            const std::string why = dsv32::hip_unavailable_reason();
            return why.empty() ? ok() : fail(DSV32_ERR_UNAVAILABLE, why);
        }
        default:
            return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_backend_available: unknown backend " + std::to_string(backend) +
                                                        " (0 = cpu, 1 = cuda, 2 = auto, 3 = hip)");
    }
}

int dsv32_seq_open(dsv32_model* model, int32_t* seq_out) {
    if (!model || !seq_out) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_open: NULL argument");
    const int id = model->cache->open();
    if (id < 0) return fail(DSV32_ERR_CAPACITY, "dsv32_seq_open: all " + std::to_string(model->max_sequences) + " sequences are open");
    *seq_out = id;
    return ok();
}

int dsv32_seq_close(dsv32_model* model, int32_t seq) {
    if (!model) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_close: model is NULL");
    if (!seq_ok(model, seq)) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_close: sequence " + std::to_string(seq) + " is not open");
    model->cache->close(seq);
    return ok();
}

int dsv32_seq_truncate(dsv32_model* model, int32_t seq, int32_t new_len) {
    if (!model) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_truncate: model is NULL");
    if (!seq_ok(model, seq)) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_truncate: sequence " + std::to_string(seq) + " is not open");
    const int len = model->cache->len(seq);
    if (new_len < 0 || new_len > len)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_truncate: sequence " + std::to_string(seq) + ": new length " +
                                                    std::to_string(new_len) + " is outside [0, " + std::to_string(len) + "] (its length)");
    model->cache->truncate(seq, new_len);
    return ok();
}

int dsv32_seq_fork(dsv32_model* model, int32_t seq, int32_t* new_seq) {
    if (!model || !new_seq) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_fork: NULL argument");
    if (!seq_ok(model, seq)) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_fork: sequence " + std::to_string(seq) + " is not open");
    const int id = model->cache->fork(seq);
    if (id < 0)
        return fail(DSV32_ERR_CAPACITY, "dsv32_seq_fork: sequence " + std::to_string(seq) + ": all " +
                                            std::to_string(model->max_sequences) + " sequences are open");
    *new_seq = id;
    return ok();
}

int dsv32_forward(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len) {
    return run_step(model, entries, n_entries, logits, logits_len, false, "dsv32_forward");
}

int dsv32_forward_last(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len) {
    return run_step(model, entries, n_entries, logits, logits_len, true, "dsv32_forward_last");
}

int dsv32_cache_stats(const dsv32_model* model, dsv32_kv_cache_stats* out) {
    if (!model || !out) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_cache_stats: NULL argument");
    const dsv32::KvCache& c = *model->cache;
    out->block_size = c.block_size();
    out->open_sequences = c.open_sequences();
    out->total_blocks = c.max_blocks();
    out->free_blocks = c.free_blocks();
    out->allocated_blocks = c.allocated_blocks();
    out->used_tokens = c.used_tokens();
    out->block_bytes = int64_t(c.block_bytes());
    return ok();
}

const char* dsv32_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
