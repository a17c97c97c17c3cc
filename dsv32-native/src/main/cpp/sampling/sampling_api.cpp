// sampling_api.cpp: the sampling functions of the C API (dsv32.h), over sampling.h. Errors set the thread-local
// last error of api.cpp (dsv32_last_error); success clears it.
#include <exception>
#include <new>
#include <string>

#include "dsv32/dsv32.h"
#include "sampling/sampling.h"

namespace dsv32 {
void set_last_error(const std::string& msg);  // api.cpp
}

namespace {

thread_local dsv32::sampling::Workspace t_workspace;

int fail(int code, const std::string& msg) {
    dsv32::set_last_error(msg);
    return code;
}

dsv32::sampling::Params to_params(const dsv32_sampling_params& p) {
    dsv32::sampling::Params q;
    q.temperature = p.temperature;
    q.top_k = p.top_k;
    q.top_p = p.top_p;
    return q;
}

int sample_rows(const char* fn, const float* logits, int32_t n_rows, int32_t vocab, const dsv32_sampling_params* params,
                uint64_t* rng_state, int32_t* tokens_out) {
    if (!params) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": params is NULL");
    if (!logits) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": logits is NULL");
    if (!tokens_out) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": token_out is NULL");
    if (n_rows <= 0) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": n_rows must be > 0, got " + std::to_string(n_rows));
    if (vocab <= 0) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": vocab must be > 0, got " + std::to_string(vocab));
    const dsv32::sampling::Params p = to_params(*params);
    std::string bad = dsv32::sampling::validate(p);
    if (!bad.empty()) return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": " + bad);
    if (p.temperature != 0 && !rng_state)
        return fail(DSV32_ERR_INVALID_ARGUMENT, std::string(fn) + ": rng_state is NULL (needed when temperature > 0)");
    try {
        for (int32_t r = 0; r < n_rows; ++r) {
            std::string err;
            if (!dsv32::sampling::sample(logits + size_t(r) * size_t(vocab), vocab, p, rng_state, t_workspace, tokens_out + r, &err)) {
                return fail(DSV32_ERR_INVALID_ARGUMENT,
                            std::string(fn) + ": " + (n_rows > 1 ? "row " + std::to_string(r) + ": " : "") + err);
            }
        }
    } catch (const std::bad_alloc&) {
        return fail(DSV32_ERR_CAPACITY, std::string(fn) + ": out of memory");
    } catch (const std::exception& e) {
        return fail(DSV32_ERR_INTERNAL, std::string(fn) + ": " + e.what());
    }
    dsv32::set_last_error(std::string());
    return DSV32_OK;
}

}  // namespace

extern "C" {

int dsv32_sample(const float* logits, int32_t vocab, const dsv32_sampling_params* params, uint64_t* rng_state,
                 int32_t* token_out) {
    return sample_rows("dsv32_sample", logits, 1, vocab, params, rng_state, token_out);
}

int dsv32_sample_rows(const float* logits, int32_t n_rows, int32_t vocab, const dsv32_sampling_params* params,
                      uint64_t* rng_state, int32_t* tokens_out) {
    return sample_rows("dsv32_sample_rows", logits, n_rows, vocab, params, rng_state, tokens_out);
}

uint64_t dsv32_splitmix64_next(uint64_t* state) {
    if (!state) return 0;
    return dsv32::sampling::splitmix64_next(state);
}

}  // extern "C"
