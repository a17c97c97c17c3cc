// sampling.cpp: see sampling.h for the exact algorithm (it is the specification; keep the two in step).
#include "sampling/sampling.h"

#include <algorithm>
#include <cmath>

namespace dsv32::sampling {

uint64_t splitmix64_next(uint64_t* state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double uniform01(uint64_t* state) {
    return double(splitmix64_next(state) >> 11) * 0x1.0p-53;
}

std::string validate(const Params& p) {
    if (!std::isfinite(p.temperature) || p.temperature < 0)
        return "temperature must be finite and >= 0 (0 = greedy), got " + std::to_string(p.temperature);
    if (p.top_k < 0) return "top_k must be >= 0 (0 = off), got " + std::to_string(p.top_k);
    if (!std::isfinite(p.top_p) || !(p.top_p > 0) || p.top_p > 1)
        return "top_p must be in (0, 1] (1 = off), got " + std::to_string(p.top_p);
    return {};
}

namespace {

bool fail(std::string* error, std::string msg) {
    if (error) *error = std::move(msg);
    return false;
}

}  // namespace

bool sample(const float* logits, int32_t vocab, const Params& p, uint64_t* rng_state, Workspace& ws, int32_t* token,
            std::string* error) {
    if (!logits) return fail(error, "logits is NULL");
    if (!token) return fail(error, "token_out is NULL");
    if (vocab <= 0) return fail(error, "vocab must be > 0, got " + std::to_string(vocab));
    std::string bad = validate(p);
    if (!bad.empty()) return fail(error, bad);
    const bool greedy = p.temperature == 0;
    if (!greedy && !rng_state) return fail(error, "rng_state is NULL (needed when temperature > 0)");

    // 0 + 1: validation and argmax in one pass.
    int32_t best = -1;
    for (int32_t i = 0; i < vocab; ++i) {
        const float v = logits[i];
        if (std::isnan(v)) return fail(error, "logit " + std::to_string(i) + " is NaN");
        if (v == INFINITY) return fail(error, "logit " + std::to_string(i) + " is +inf");
        if (v == -INFINITY) continue;  // excluded token
        if (best < 0 || v > logits[best]) best = i;
    }
    if (best < 0) return fail(error, "all " + std::to_string(vocab) + " logits are -inf");
    if (greedy) {
        *token = best;
        return true;
    }

    // 2: candidates in a total order (logit descending, id ascending), top-k.
    ws.ids.clear();
    for (int32_t i = 0; i < vocab; ++i)
        if (logits[i] != -INFINITY) ws.ids.push_back(i);
    auto before = [logits](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
    size_t n = ws.ids.size();
    if (p.top_k > 0 && size_t(p.top_k) < n) {
        n = size_t(p.top_k);
        std::partial_sort(ws.ids.begin(), ws.ids.begin() + std::ptrdiff_t(n), ws.ids.end(), before);
    } else {
        std::sort(ws.ids.begin(), ws.ids.end(), before);
    }

    // 3 + 4: temperature and softmax weights (unnormalised, max-subtracted), ws.w[j] for the j-th candidate.
    const double lmax = double(logits[ws.ids[0]]);
    ws.w.resize(n);
    double total = 0;
    for (size_t j = 0; j < n; ++j) {
        const double wj = std::exp((double(logits[ws.ids[j]]) - lmax) / p.temperature);
        ws.w[j] = wj;
        total += wj;
    }
    const double* w = ws.w.data();

    // 5: nucleus.
    size_t kept = n;
    double mass = total;
    if (p.top_p < 1) {
        const double need = p.top_p * total;
        double cum = 0;
        for (size_t j = 0; j < n; ++j) {
            cum += w[j];
            if (cum >= need) {
                kept = j + 1;
                mass = cum;
                break;
            }
        }
        // Rounding can leave cum just under need at the end: then all n are kept (mass = total).
    }

    // 6: draw.
    const double t = uniform01(rng_state) * mass;
    double cum = 0;
    for (size_t j = 0; j < kept; ++j) {
        cum += w[j];
        if (cum > t) {
            *token = ws.ids[j];
            return true;
        }
    }
    *token = ws.ids[kept - 1];
    return true;
}

}  // namespace dsv32::sampling
