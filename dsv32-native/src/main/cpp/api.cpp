// api.cpp: the C API (dsv32.h). Every input is validated before use; errors set a thread-local message.
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "dsv32/dsv32.h"
#include "model/model.h"

struct dsv32_model {
    std::unique_ptr<dsv32::Model> model;
    int32_t numerics = DSV32_NUMERICS_F32;
    int32_t mp = 1;
    int32_t max_sequences = 8;
    std::vector<std::unique_ptr<dsv32::SeqCache>> seqs;  // slot i = sequence id i; null = free
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

void truncate(dsv32::SeqCache* c, int len, const dsv32::Config& cfg) {
    c->len = len;
    for (auto& L : c->layers) {
        L.latent.resize(size_t(len) * cfg.kv_lora_rank);
        L.k_pe.resize(size_t(len) * cfg.qk_rope_head_dim);
        L.idx_k.resize(size_t(len) * cfg.index_head_dim);
    }
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
    if (o.debug_flags & ~(DSV32_DEBUG_INDEXER_ROPE_INTERLEAVED | DSV32_DEBUG_NO_YARN | DSV32_DEBUG_NO_GATE_BIAS))
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_model_open: unknown debug_flags bits");
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
        m->model = std::make_unique<dsv32::Model>(dir, o.max_seq_len, o.n_threads, o.debug_flags, o.mp > 1 ? o.mp : 1, progress);
        if (o.numerics == DSV32_NUMERICS_FP8) {
            m->model->set_fp8_numerics(true);
            m->numerics = DSV32_NUMERICS_FP8;
        }
        m->mp = o.mp > 1 ? o.mp : 1;
        m->max_sequences = o.max_sequences > 0 ? o.max_sequences : 8;
        m->seqs.resize(size_t(m->max_sequences));
        *out = m.release();
        return ok();
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
    return ok();
}

int dsv32_seq_open(dsv32_model* model, int32_t* seq_out) {
    if (!model || !seq_out) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_open: NULL argument");
    for (size_t i = 0; i < model->seqs.size(); ++i) {
        if (!model->seqs[i]) {
            try {
                model->seqs[i] = std::make_unique<dsv32::SeqCache>();
            } catch (...) {
                return fail(DSV32_ERR_CAPACITY, "dsv32_seq_open: out of memory");
            }
            *seq_out = int32_t(i);
            return ok();
        }
    }
    return fail(DSV32_ERR_CAPACITY, "dsv32_seq_open: all " + std::to_string(model->max_sequences) + " sequences are open");
}

int dsv32_seq_close(dsv32_model* model, int32_t seq) {
    if (!model) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_close: model is NULL");
    if (seq < 0 || size_t(seq) >= model->seqs.size() || !model->seqs[size_t(seq)])
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_seq_close: sequence " + std::to_string(seq) + " is not open");
    model->seqs[size_t(seq)].reset();
    return ok();
}

int dsv32_forward(dsv32_model* model, const dsv32_batch_entry* entries, int32_t n_entries, float* logits, size_t logits_len) {
    if (!model) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_forward: model is NULL");
    if (n_entries <= 0 || !entries) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_forward: no entries");
    if (!logits) return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_forward: logits is NULL");
    const dsv32::Config& cfg = model->model->config();
    const int maxlen = model->model->max_seq_len();
    size_t rows = 0;
    std::vector<char> used(model->seqs.size(), 0);
    for (int32_t i = 0; i < n_entries; ++i) {
        const dsv32_batch_entry& e = entries[i];
        const std::string where = "dsv32_forward: entry " + std::to_string(i) + ": ";
        if (e.seq < 0 || size_t(e.seq) >= model->seqs.size() || !model->seqs[size_t(e.seq)])
            return fail(DSV32_ERR_INVALID_ARGUMENT, where + "sequence " + std::to_string(e.seq) + " is not open");
        if (used[size_t(e.seq)]) return fail(DSV32_ERR_INVALID_ARGUMENT, where + "sequence " + std::to_string(e.seq) + " appears twice");
        used[size_t(e.seq)] = 1;
        const int len = model->seqs[size_t(e.seq)]->len;
        if (e.start_pos != len)
            return fail(DSV32_ERR_INVALID_ARGUMENT, where + "start_pos " + std::to_string(e.start_pos) +
                                                        " but the sequence has processed " + std::to_string(len) + " tokens");
        if (e.n_tokens <= 0) return fail(DSV32_ERR_INVALID_ARGUMENT, where + "n_tokens must be > 0");
        if (!e.tokens) return fail(DSV32_ERR_INVALID_ARGUMENT, where + "tokens is NULL");
        if (int64_t(e.start_pos) + e.n_tokens > maxlen)
            return fail(DSV32_ERR_CAPACITY, where + "positions up to " + std::to_string(int64_t(e.start_pos) + e.n_tokens) +
                                                " exceed max_seq_len " + std::to_string(maxlen));
        for (int32_t t = 0; t < e.n_tokens; ++t)
            if (e.tokens[t] < 0 || e.tokens[t] >= cfg.vocab_size)
                return fail(DSV32_ERR_INVALID_ARGUMENT, where + "token " + std::to_string(t) + " = " + std::to_string(e.tokens[t]) +
                                                            " is outside [0, " + std::to_string(cfg.vocab_size) + ")");
        rows += size_t(e.n_tokens);
    }
    const size_t need = rows * size_t(cfg.vocab_size);
    if (logits_len < need)
        return fail(DSV32_ERR_INVALID_ARGUMENT, "dsv32_forward: logits_len " + std::to_string(logits_len) + " < " + std::to_string(need));
    std::vector<int> before;
    for (int32_t i = 0; i < n_entries; ++i) before.push_back(model->seqs[size_t(entries[i].seq)]->len);
    try {
        float* out = logits;
        for (int32_t i = 0; i < n_entries; ++i) {
            const dsv32_batch_entry& e = entries[i];
            model->model->forward(model->seqs[size_t(e.seq)].get(), e.tokens, e.n_tokens, out);
            out += size_t(e.n_tokens) * size_t(cfg.vocab_size);
        }
        return ok();
    } catch (const std::exception& ex) {
        for (int32_t i = 0; i < n_entries; ++i) truncate(model->seqs[size_t(entries[i].seq)].get(), before[size_t(i)], cfg);
        if (dynamic_cast<const std::bad_alloc*>(&ex)) return fail(DSV32_ERR_CAPACITY, "dsv32_forward: out of memory");
        return fail(DSV32_ERR_INTERNAL, std::string("dsv32_forward: ") + ex.what());
    }
}

const char* dsv32_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
