// sampling.cuh: next-token sampling on the GPU with sampling/sampling.h's semantics, one block per row.
//
// The candidate order is (logit descending, id ascending) = (order key descending, id ascending). Instead of sorting
// the candidates, every "first position in that order where the running weight sum crosses X" question (the top-p
// cut, the draw) is answered by a radix descent: per 8-bit digit of the order key, the weights of the candidates
// are summed per bucket and the bucket where base + bucket sum crosses X is entered; inside the final key (all
// candidates there have one logit, hence one weight) the crossing count is found by adding that weight one by one,
// and its id by an ordered scan. The arithmetic of each weight is the CPU's (x = (double(l) - lmax) / T, exp in
// double, weights of x < -40 are the CPU's negligible tail and count 0 here); only the order in which the doubles
// are added differs (per bucket, and the shared-memory atomics make that order run-dependent), so a draw can
// differ from sampling::sample only when u lies within ~1e-15 (relative) of a cumulative boundary.
#ifndef DSV32_GPU_KERNELS_SAMPLING_CUH
#define DSV32_GPU_KERNELS_SAMPLING_CUH

#include "gpu/kernels/common.cuh"
#include "gpu/kernels/topk.cuh"

namespace dsv32::gpu::dev {

constexpr int kSampleThreads = 512;

// Candidates are the entries with (key, id) at or before the cut in the candidate order.
struct Cut {
    uint32_t key;  // 0 with id -1: every selectable entry
    int id;
    __device__ bool contains(uint32_t k, int i) const { return k != 0 && (k > key || (k == key && i <= id)); }
};

struct SampleScratch {
    RadixScratch rs;
    double hsum[256];
    unsigned hcnt[256];
    double dbcast[1];
    int ibcast[4];
    unsigned long long red64[kMaxWarps];
    double redd[kMaxWarps];
    int redi[kMaxWarps];
};

struct Crossing {
    bool found;
    uint32_t key;
    int id;
    double sum;  // the running sum up to and including the crossing candidate
};

// First candidate (in order) whose running weight sum s satisfies s > x (strict) or s >= x.
template <typename KeyAt, typename WeightOf>
__device__ Crossing find_crossing(KeyAt key_at, WeightOf weight_of, int len, Cut cut, double x, bool strict,
                                  SampleScratch& sh) {
    const int tid = int(threadIdx.x), bd = int(blockDim.x);
    uint32_t prefix = 0, mask = 0;
    double base = 0;
    unsigned cnt = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = tid; b < 256; b += bd) {
            sh.hsum[b] = 0;
            sh.hcnt[b] = 0;
        }
        __syncthreads();
        for (int i = tid; i < len; i += bd) {
            const uint32_t key = key_at(i);
            if (cut.contains(key, i) && (key & mask) == prefix) {
                const unsigned d = (key >> shift) & 0xFFu;
                atomicAdd(&sh.hsum[d], weight_of(key));
                atomicAdd(&sh.hcnt[d], 1u);
            }
        }
        __syncthreads();
        if (tid == 0) {
            int chosen = -1;
            double b0 = base;
            for (int b = 255; b >= 0; --b) {
                if (sh.hcnt[b] == 0) continue;
                const double s = b0 + sh.hsum[b];
                if (strict ? s > x : s >= x) {
                    chosen = b;
                    break;
                }
                b0 = s;
            }
            sh.ibcast[0] = chosen;
            sh.ibcast[1] = chosen >= 0 ? int(sh.hcnt[chosen]) : 0;
            sh.dbcast[0] = b0;
        }
        __syncthreads();
        const int chosen = sh.ibcast[0];
        cnt = unsigned(sh.ibcast[1]);
        base = sh.dbcast[0];
        __syncthreads();
        if (chosen < 0) return {false, 0u, -1, 0.0};
        prefix |= uint32_t(chosen) << shift;
        mask |= 0xFFu << shift;
    }
    // Inside the key: cnt candidates of equal weight, in id order.
    const double w = weight_of(prefix);
    unsigned c = 1;
    double s = base + w;
    while (c < cnt && !(strict ? s > x : s >= x)) {
        ++c;
        s += w;
    }
    const uint32_t kv = prefix;
    const int id = nth_in_order([&](int i) { return key_at(i) == kv && cut.contains(kv, i); }, len, int(c), sh.rs);
    return {true, kv, id, s};
}

// Pass 1 of sampling and argmax: flags (1 NaN, 2 +inf), the best (key, lowest id) packed as key << 32 | ~id
// (0 when no entry is selectable), the number of finite entries.
struct RowScan {
    int flags;
    unsigned long long best;
    int n_finite;
};

__device__ RowScan scan_row(const float* lr, int vocab, SampleScratch& sh) {
    int flags = 0, nf = 0;
    unsigned long long best = 0;
    for (int i = int(threadIdx.x); i < vocab; i += int(blockDim.x)) {
        const float v = lr[i];
        if (isnan(v)) flags |= 1;
        else if (v == INFINITY) flags |= 2;
        const uint32_t key = order_key(v);
        if (key != 0) {
            ++nf;
            const unsigned long long packed = (static_cast<unsigned long long>(key) << 32) | (0xFFFFFFFFu - uint32_t(i));
            best = packed > best ? packed : best;
        }
    }
    RowScan r;
    r.flags = block_reduce(flags, OrOp{}, sh.redi);
    r.best = block_reduce(best, MaxOp{}, sh.red64);
    r.n_finite = block_reduce(nf, SumOp{}, sh.redi);
    return r;
}

__device__ __forceinline__ int best_id(unsigned long long best) { return int(0xFFFFFFFFu - uint32_t(best & 0xFFFFFFFFull)); }

// grid (rows), block (kSampleThreads).
__global__ void __launch_bounds__(kSampleThreads) sample_kernel(const float* logits, int vocab, int ld,
                                                                const GpuSampleParams* params, int32_t* tokens, int32_t* status) {
    __shared__ SampleScratch sh;
    const int r = int(blockIdx.x), tid = int(threadIdx.x);
    const float* lr = logits + size_t(r) * size_t(ld);
    const GpuSampleParams P = params[r];
    auto finish = [&](int32_t tok, int32_t st) {
        if (tid == 0) {
            tokens[r] = tok;
            if (status) status[r] = st;
        }
    };
    const bool params_ok = isfinite(P.temperature) && P.temperature >= 0 && P.top_k >= 0 && isfinite(P.top_p) &&
                           P.top_p > 0 && P.top_p <= 1 && P.u >= 0 && P.u < 1;
    if (!params_ok) return finish(-1, SAMPLE_BAD_PARAMS);
    const RowScan rs = scan_row(lr, vocab, sh);
    if (rs.flags & 1) return finish(-1, SAMPLE_NAN_LOGIT);
    if (rs.flags & 2) return finish(-1, SAMPLE_POS_INF_LOGIT);
    if (rs.best == 0) return finish(-1, SAMPLE_ALL_NEG_INF);
    const int best = best_id(rs.best);
    if (P.temperature == 0) return finish(best, SAMPLE_OK);

    const double T = P.temperature, lmax = double(lr[best]);
    auto key_at = [lr](int i) { return order_key(lr[i]); };
    auto weight_of = [T, lmax](uint32_t key) {  // sampling.cpp: exp((double(l) - lmax) / T); the x < -40 tail is 0
        const double xv = (double(key_value(key)) - lmax) / T;
        return xv >= -40.0 ? exp(xv) : 0.0;
    };

    // 2: top-k as a cut in the candidate order.
    Cut cut{0u, -1};
    if (P.top_k > 0 && P.top_k < rs.n_finite) {
        const RadixSelectResult sel = radix_select(key_at, vocab, P.top_k, sh.rs);
        const uint32_t kth = sel.kth;
        cut.key = kth;
        cut.id = nth_in_order([&](int i) { return key_at(i) == kth; }, vocab, sel.need_eq, sh.rs);
    }
    // 3 + 4: the total weight of the candidates.
    double total = 0;
    for (int i = tid; i < vocab; i += int(blockDim.x)) {
        const uint32_t key = key_at(i);
        if (cut.contains(key, i)) total += weight_of(key);
    }
    total = block_reduce(total, SumOp{}, sh.redd);
    // 5: nucleus: the shortest prefix with running sum >= top_p * total (none found: all candidates stay).
    double mass = total;
    if (P.top_p < 1) {
        const Crossing c = find_crossing(key_at, weight_of, vocab, cut, P.top_p * total, false, sh);
        if (c.found) {
            cut = Cut{c.key, c.id};
            mass = c.sum;
        }
    }
    // 6: draw: the first candidate whose running sum exceeds t = u * mass; none: the last kept candidate.
    const Crossing d = find_crossing(key_at, weight_of, vocab, cut, P.u * mass, true, sh);
    if (d.found) return finish(d.id, SAMPLE_OK);
    unsigned long long last = 0;  // the latest candidate in the order: smallest key, then largest id
    for (int i = tid; i < vocab; i += int(blockDim.x)) {
        const uint32_t key = key_at(i);
        if (!cut.contains(key, i)) continue;
        const unsigned long long v = (static_cast<unsigned long long>(~key) << 32) | uint32_t(i);
        last = v > last ? v : last;
    }
    last = block_reduce(last, MaxOp{}, sh.red64);
    finish(int(uint32_t(last & 0xFFFFFFFFull)), SAMPLE_OK);
}

// grid (rows), block (kSampleThreads): argmax, lowest id on ties; -1 for a row with a NaN or nothing above -inf.
__global__ void __launch_bounds__(kSampleThreads) argmax_kernel(const float* logits, int vocab, int ld, int32_t* tokens) {
    __shared__ SampleScratch sh;
    const int r = int(blockIdx.x);
    const RowScan rs = scan_row(logits + size_t(r) * size_t(ld), vocab, sh);
    if (threadIdx.x == 0) tokens[r] = ((rs.flags & 1) || rs.best == 0) ? -1 : best_id(rs.best);
}

}  // namespace dsv32::gpu::dev

#endif
