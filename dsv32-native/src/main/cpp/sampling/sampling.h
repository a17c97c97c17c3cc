// sampling.h: next-token sampling from one row of logits.
//
// Pipeline, in this order (DeepSeek-V3.2 model card defaults: temperature 1.0, top-p 0.95):
//   0. validation: logits may not hold NaN or +inf; -inf marks an excluded token (at least one logit must be finite).
//      temperature must be finite and >= 0, top_k >= 0, top_p finite and in (0, 1].
//   1. greedy: temperature == 0 returns the argmax (the lowest id wins ties); top_k and top_p are ignored and the
//      RNG state is not touched.
//   2. candidates: the finite tokens, ordered by logit descending, ties by id ascending (a total, platform-
//      independent order; dividing by temperature > 0 does not change it). top_k > 0 keeps the first top_k of
//      them (top_k == 0 or >= their number: all).
//   3+4. temperature and softmax over the candidates, in double: w_i = exp((logit_i - logit_max) / temperature)
//      (max-subtracted before the division, so nothing overflows for any temperature > 0; w_0 == 1), summed in
//      double.
//   5. top-p nucleus: top_p < 1 keeps the shortest prefix of the ordered candidates whose mass
//      sum(w) >= top_p * total (always at least one token); top_p == 1 keeps all.
//   6. renormalise and draw: u = uniform double in [0, 1) from one SplitMix64 output (below), t = u * sum(kept w);
//      the token is the first kept candidate (in the order of step 3) whose running sum of w exceeds t (the last
//      kept one if rounding leaves none).
//
// PRNG: SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro). The state is one uint64_t; a
// seed is used as the initial state as is. One step:
//   state += 0x9E3779B97F4A7C15; z = state;
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB; out = z ^ (z >> 31);
//   u = (out >> 11) * 2^-53.
// Each non-greedy sample consumes exactly one output (even when one candidate is left), so a seed determines the
// whole sequence of draws. The arithmetic is integer and IEEE double; the only platform dependency is exp() of
// the C library, whose last-ulp differences can change a draw only when u falls within ~1e-16 of a boundary.
#ifndef DSV32_SAMPLING_H
#define DSV32_SAMPLING_H

#include <cstdint>
#include <string>
#include <vector>

namespace dsv32::sampling {

struct Params {
    double temperature = 1.0;  // 0 = greedy
    int32_t top_k = 0;         // 0 = off
    double top_p = 0.95;       // 1 = off
};

// One SplitMix64 step: advances *state and returns the next output.
uint64_t splitmix64_next(uint64_t* state);

// A uniform double in [0, 1) from one SplitMix64 output (53 bits).
double uniform01(uint64_t* state);

// Empty if p is valid, else a message naming the bad field.
std::string validate(const Params& p);

// Reusable scratch space (one per thread / caller), so repeated samples do not allocate.
struct Workspace {
    std::vector<int32_t> ids;
    std::vector<double> w;  // softmax weights of the kept candidates
    std::vector<uint64_t> keys, tmp;  // packed (order key << 32 | id) of sample()'s head candidates, radix scratch
};

// Samples one token id from logits[0 .. vocab). Returns true and sets *token, or returns false with *error set
// (bad logits or params); never throws for bad input (std::bad_alloc can still escape). rng_state may be null
// only when p.temperature == 0.
// Sorts only the head of the candidate order whose weights can change a double sum (see sampling.cpp), with a
// radix sort: O(vocab), and bit-identical to sample_reference for every input, params and RNG state.
bool sample(const float* logits, int32_t vocab, const Params& p, uint64_t* rng_state, Workspace& ws, int32_t* token,
            std::string* error);

// The literal implementation of the steps above (a full comparison sort of the candidates): the specification
// sample() is tested against. Same contract.
bool sample_reference(const float* logits, int32_t vocab, const Params& p, uint64_t* rng_state, Workspace& ws,
                      int32_t* token, std::string* error);

}  // namespace dsv32::sampling

#endif
