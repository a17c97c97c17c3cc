// sampling.cpp: see sampling.h for the exact algorithm (it is the specification; keep the two in step).
#include "sampling/sampling.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

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

namespace {

// Steps 0 + 1, shared by both implementations: argument and logit validation, argmax (lowest id among ties).
// Returns false with *error set on bad input; else sets *best.
bool check_and_argmax(const float* logits, int32_t vocab, const Params& p, const uint64_t* rng_state,
                      const int32_t* token, int32_t* best_out, std::string* error) {
    if (!logits) return fail(error, "logits is NULL");
    if (!token) return fail(error, "token_out is NULL");
    if (vocab <= 0) return fail(error, "vocab must be > 0, got " + std::to_string(vocab));
    std::string bad = validate(p);
    if (!bad.empty()) return fail(error, bad);
    if (p.temperature != 0 && !rng_state) return fail(error, "rng_state is NULL (needed when temperature > 0)");
    int32_t best = -1;
    for (int32_t i = 0; i < vocab; ++i) {
        const float v = logits[i];
        if (std::isnan(v)) return fail(error, "logit " + std::to_string(i) + " is NaN");
        if (v == INFINITY) return fail(error, "logit " + std::to_string(i) + " is +inf");
        if (v == -INFINITY) continue;  // excluded token
        if (best < 0 || v > logits[best]) best = i;
    }
    if (best < 0) return fail(error, "all " + std::to_string(vocab) + " logits are -inf");
    *best_out = best;
    return true;
}

// Sort key of a finite logit: ascending keys = descending logits; -0 and +0 get the same key (they compare equal).
// Branch-free (the signs of logits are unpredictable).
inline uint32_t asc_bits(float v) {  // monotone map of the floats (-0 < +0 here) onto uint32_t
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    return b ^ (uint32_t(int32_t(b) >> 31) | 0x80000000u);  // negative: ~b; else b | sign bit
}
inline float from_asc_bits(uint32_t a) {
    const uint32_t b = (a & 0x80000000u) ? (a & 0x7FFFFFFFu) : ~a;
    float v;
    std::memcpy(&v, &b, sizeof v);
    return v;
}
inline uint32_t desc_key(float v) { return ~asc_bits(v + 0.0f); }  // -0 + 0 == +0; any other v + 0 == v
inline float from_desc_key(uint32_t k) { return from_asc_bits(~k); }

// x(v) = (double(v) - lmax) / T, exactly as the weights compute it: non-decreasing in v (each rounding is
// monotone). Returns the smallest finite float L with x(L) >= cut (x(lmax) = 0 >= cut), by bisection over the
// ordered float bit patterns, so that {finite v : x(v) >= cut} == {v : v >= L} (for L = -0 that includes +0 and
// -0, which have the same x).
float head_threshold(float lmaxf, double T, double cut) {
    const double lmax = double(lmaxf);
    uint32_t lo = asc_bits(-FLT_MAX), hi = asc_bits(lmaxf);  // x(hi) >= cut; find the first such
    if ((double(-FLT_MAX) - lmax) / T >= cut) return -FLT_MAX;
    while (hi - lo > 1) {  // invariant: x(lo) < cut <= x(hi)
        const uint32_t mid = lo + (hi - lo) / 2;
        if ((double(from_asc_bits(mid)) - lmax) / T >= cut)
            hi = mid;
        else
            lo = mid;
    }
    return from_asc_bits(hi);
}

// Stable LSD radix sort of packed (key << 32 | id) by the upper 32 bits (11 + 11 + 10 bit digits; a digit all
// elements share is skipped). The input is in id order, so equal keys stay in id order: the result is the
// ascending order of the whole 64-bit value, i.e. (logit descending, id ascending). Result in *a.
void radix_sort_upper32(std::vector<uint64_t>* a, std::vector<uint64_t>* tmp) {
    const size_t n = a->size();
    tmp->resize(n);
    static constexpr int kShift[3] = {32, 43, 54};
    static constexpr uint32_t kMask[3] = {0x7FF, 0x7FF, 0x3FF};
    uint32_t hist[3 * 2048] = {};
    for (uint64_t k : *a) {
        ++hist[0 * 2048 + ((k >> 32) & 0x7FF)];
        ++hist[1 * 2048 + ((k >> 43) & 0x7FF)];
        ++hist[2 * 2048 + ((k >> 54) & 0x3FF)];
    }
    uint64_t* src = a->data();
    uint64_t* dst = tmp->data();
    for (int d = 0; d < 3; ++d) {
        uint32_t* h = hist + d * 2048;
        const uint32_t nb = kMask[d] + 1;
        bool trivial = false;
        uint32_t sum = 0;
        for (uint32_t b = 0; b < nb; ++b) {
            if (size_t(h[b]) == n) trivial = true;
            const uint32_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        if (trivial) continue;
        const int sh = kShift[d];
        const uint32_t mk = kMask[d];
        for (size_t i = 0; i < n; ++i) {
            const uint64_t k = src[i];
            dst[h[(k >> sh) & mk]++] = k;
        }
        std::swap(src, dst);
    }
    if (src != a->data()) std::memcpy(a->data(), src, n * sizeof(uint64_t));
}

}  // namespace

bool sample_reference(const float* logits, int32_t vocab, const Params& p, uint64_t* rng_state, Workspace& ws,
                      int32_t* token, std::string* error) {
    int32_t best = -1;
    if (!check_and_argmax(logits, vocab, p, rng_state, token, &best, error)) return false;
    if (p.temperature == 0) {
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

// The fast implementation: the same arithmetic as sample_reference, on the same values in the same order, over
// the "head" of the candidate order only. Why the result is bit-identical:
//  * x_i = (double(logit_i) - lmax) / T is computed by the same expression; it is monotone (non-strictly) in
//    logit_i, so the head H = {finite i : x_i >= kHeadCut} is a prefix of the candidate order (equal logits have
//    equal x), and it holds the maximum (x = 0).
//  * Every candidate outside H has w = exp(x) < exp(-40) (about 4.2e-18, < 2^-53 = 1.1e-16 with a factor 26 to
//    spare for exp's error). The running sum starts with w_0 = exp(0) = 1, so from then on cum >= 1, whose ulp is
//    >= 2^-52: adding any w < 2^-53 (less than half an ulp) rounds back to cum. Hence every running sum over the
//    candidates after H equals the running sum at the end of H: the total, the nucleus cut (need <= total, reached
//    within H unless never reached at all) and the draw (the first running sum > t) are the same as with the full
//    sort. Only the fallback "no running sum exceeds t -> the kept-th candidate" could point past H; that candidate
//    is then selected from the tail explicitly (defensive: t = u * mass < mass for u <= 1 - 2^-53 and mass >= 1,
//    and the running sum at the kept-th candidate is mass, so neither implementation ever takes that fallback).
//  * H = {v >= L} for the float L of head_threshold (x is monotone), so the pass that collects H is one compare.
//  * H is put in exactly the reference order (logit descending, id ascending) by a stable radix sort on packed
//    64-bit keys (or std::sort / nth_element on the same keys, which are distinct), so w, cum, need, mass and t
//    are the same doubles.
bool sample(const float* logits, int32_t vocab, const Params& p, uint64_t* rng_state, Workspace& ws, int32_t* token,
            std::string* error) {
    int32_t best = -1;
    if (!check_and_argmax(logits, vocab, p, rng_state, token, &best, error)) return false;
    if (p.temperature == 0) {
        *token = best;
        return true;
    }
    constexpr double kHeadCut = -40.0;
    const double T = p.temperature;
    const double lmax = double(logits[best]);

    // 2: the head of the candidate order as packed keys (x(v) >= kHeadCut <=> v >= L); the finite count.
    const float L = head_threshold(logits[best], T, kHeadCut);
    std::vector<uint64_t>& keys = ws.keys;
    keys.resize(size_t(vocab));
    uint64_t* kp = keys.data();
    size_t h = 0, n_finite = 0;
    for (int32_t i = 0; i < vocab; ++i) {
        const float v = logits[i];
        kp[h] = (uint64_t(desc_key(v)) << 32) | uint32_t(i);
        h += v >= L;
        n_finite += v != -INFINITY;
    }
    keys.resize(h);
    size_t n = n_finite;
    if (p.top_k > 0 && size_t(p.top_k) < n) n = size_t(p.top_k);
    const size_t m = std::min(n, h);  // candidates whose weight can matter, all in the head
    if (m < h && m * 8 < h) {
        std::nth_element(keys.begin(), keys.begin() + std::ptrdiff_t(m), keys.end());
        std::sort(keys.begin(), keys.begin() + std::ptrdiff_t(m));
    } else if (h <= 1024) {
        std::sort(keys.begin(), keys.end());
    } else {
        radix_sort_upper32(&keys, &ws.tmp);
    }
    auto id_at = [&keys](size_t j) { return int32_t(uint32_t(keys[j])); };
    // The logit of the j-th candidate, from its key (the same value up to the sign of a zero, and x(-0) == x(+0)).
    auto logit_at = [&keys](size_t j) { return from_desc_key(uint32_t(keys[j] >> 32)); };

    // 3 + 4: weights of the first m candidates; their sum is the total over all n (see above).
    ws.w.resize(m);
    double* w = ws.w.data();
    double total = 0;
    for (size_t j = 0; j < m; ++j) {
        const double wj = std::exp((double(logit_at(j)) - lmax) / T);
        w[j] = wj;
        total += wj;
    }

    // 5: nucleus.
    size_t kept = n;
    double mass = total;
    if (p.top_p < 1) {
        const double need = p.top_p * total;
        double cum = 0;
        for (size_t j = 0; j < m; ++j) {
            cum += w[j];
            if (cum >= need) {
                kept = j + 1;
                mass = cum;
                break;
            }
        }
    }

    // 6: draw.
    const double t = uniform01(rng_state) * mass;
    double cum = 0;
    const size_t scan = std::min(kept, m);
    for (size_t j = 0; j < scan; ++j) {
        cum += w[j];
        if (cum > t) {
            *token = id_at(j);
            return true;
        }
    }
    if (kept <= m) {
        *token = id_at(kept - 1);
        return true;
    }
    // The kept-th candidate lies past the head (only when t rounds up to the whole mass): select it in the tail.
    std::vector<uint64_t>& tail = ws.tmp;
    tail.clear();
    for (int32_t i = 0; i < vocab; ++i) {
        const float v = logits[i];
        if (v == -INFINITY || v >= L) continue;
        tail.push_back((uint64_t(desc_key(v)) << 32) | uint32_t(i));
    }
    const size_t r = kept - 1 - h;  // rank within the tail
    std::nth_element(tail.begin(), tail.begin() + std::ptrdiff_t(r), tail.end());
    *token = int32_t(uint32_t(tail[r]));
    return true;
}

}  // namespace dsv32::sampling
