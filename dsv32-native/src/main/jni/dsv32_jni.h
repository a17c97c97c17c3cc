/*
 * dsv32_jni.h: Java-side helpers compiled into the JNI library (not part of the core's C API).
 *
 * dsv32_forward_flat runs dsv32_forward with the batch given as flat int arrays, so that one forward step is one JNI
 * call: no struct field is set from Java. entries holds n_entries triples (seq, start_pos, n_tokens); tokens holds
 * the entries' tokens one after the other (tokens_len ints, checked against the sum of n_tokens). dsv32_step_flat
 * does the same for dsv32_forward and dsv32_forward_last, writing from an offset.
 */
#ifndef DSV32_JNI_H
#define DSV32_JNI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vector>

#include "dsv32/dsv32.h"

inline int dsv32_forward_flat(dsv32_model* model, const int32_t* entries, int32_t n_entries, const int32_t* tokens,
                              int64_t tokens_len, float* logits, int64_t logits_len) {
    if (model == nullptr || entries == nullptr || tokens == nullptr || logits == nullptr || n_entries <= 0
        || tokens_len < 0 || logits_len < 0) {
        return DSV32_ERR_INVALID_ARGUMENT;  // the Java layer checks all of this first
    }
    std::vector<dsv32_batch_entry> batch(static_cast<size_t>(n_entries));
    int64_t offset = 0;
    for (int32_t i = 0; i < n_entries; i++) {
        int32_t n = entries[3 * i + 2];
        if (n <= 0 || offset + n > tokens_len) return DSV32_ERR_INVALID_ARGUMENT;
        batch[i].seq = entries[3 * i];
        batch[i].start_pos = entries[3 * i + 1];
        batch[i].n_tokens = n;
        batch[i].tokens = tokens + offset;
        offset += n;
    }
    if (offset != tokens_len) return DSV32_ERR_INVALID_ARGUMENT;
    return dsv32_forward(model, batch.data(), n_entries, logits, static_cast<size_t>(logits_len));
}

/* One forward step in one JNI call, all rows (last_only == 0: dsv32_forward) or one row per entry (last_only != 0:
 * dsv32_forward_last), written from logits[offset] of an array of logits_len floats (a heap buffer's backing array
 * is passed as is, with its offset). entries / tokens as for dsv32_forward_flat. */
inline int dsv32_step_flat(dsv32_model* model, const int32_t* entries, int32_t n_entries, const int32_t* tokens,
                           int64_t tokens_len, int32_t last_only, float* logits, int64_t logits_len, int64_t offset) {
    if (model == nullptr || entries == nullptr || tokens == nullptr || logits == nullptr || n_entries <= 0
        || tokens_len < 0 || logits_len < 0 || offset < 0 || offset > logits_len) {
        return DSV32_ERR_INVALID_ARGUMENT;  // the Java layer checks all of this first
    }
    std::vector<dsv32_batch_entry> batch(static_cast<size_t>(n_entries));
    int64_t off = 0;
    for (int32_t i = 0; i < n_entries; i++) {
        int32_t n = entries[3 * i + 2];
        if (n <= 0 || off + n > tokens_len) return DSV32_ERR_INVALID_ARGUMENT;
        batch[i].seq = entries[3 * i];
        batch[i].start_pos = entries[3 * i + 1];
        batch[i].n_tokens = n;
        batch[i].tokens = tokens + off;
        off += n;
    }
    if (off != tokens_len) return DSV32_ERR_INVALID_ARGUMENT;
    const size_t len = static_cast<size_t>(logits_len - offset);
    return last_only ? dsv32_forward_last(model, batch.data(), n_entries, logits + offset, len)
                     : dsv32_forward(model, batch.data(), n_entries, logits + offset, len);
}

/* dsv32_sample on logits[offset .. offset+vocab) of an array of logits_len floats, with the params as scalars: one
 * JNI call per sample, no struct set from Java. The range is checked here; everything else by dsv32_sample. */
inline int dsv32_sample_flat(const float* logits, int64_t logits_len, int64_t offset, int32_t vocab, double temperature,
                             double top_p, int32_t top_k, uint64_t* rng_state, int32_t* token_out) {
    if (logits == nullptr || logits_len < 0 || offset < 0 || vocab <= 0 || offset > logits_len - vocab) {
        return DSV32_ERR_INVALID_ARGUMENT;  // the Java layer checks all of this first
    }
    dsv32_sampling_params p;
    p.temperature = temperature;
    p.top_p = top_p;
    p.top_k = top_k;
    return dsv32_sample(logits + offset, vocab, &p, rng_state, token_out);
}

#endif /* DSV32_JNI_H */
