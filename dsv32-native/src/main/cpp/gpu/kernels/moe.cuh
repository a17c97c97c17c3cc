// moe.cuh: MoE routing with noaux_tc group-limited top-k, bucketing of the (token, expert) choices by expert for the
// grouped expert GEMM, and the weighted combine (architecture.md §8, model/moe.cpp).
#ifndef DSV32_GPU_KERNELS_MOE_CUH
#define DSV32_GPU_KERNELS_MOE_CUH

#include "gpu/kernels/common.cuh"
#include "gpu/kernels/elementwise.cuh"

namespace dsv32::gpu::dev {

constexpr int kMaxExperts = 1024;
constexpr int kMaxTopk = 32;

// grid (S), block (256). Scores in shared memory (parallel), then thread 0 selects: groups by repeated argmax and
// experts by repeated argmax (strictly greater wins, so ties go to the lower index: the order of moe.cpp's
// std::stable_sort by descending key), in selection order.
__global__ void moe_route_kernel(const float* logits, const float* bias, int E, int n_group, int topk_group, int topk,
                                 double route_scale, int softmax_scores, int32_t* ids, float* weights) {
    __shared__ float sc[kMaxExperts], sb[kMaxExperts];
    __shared__ float gs[kMaxExperts];
    __shared__ unsigned char keep[kMaxExperts], taken[kMaxExperts];
    __shared__ float redf[kMaxWarps];
    __shared__ double redd[kMaxWarps];
    const int s = int(blockIdx.x);
    const float* lg = logits + size_t(s) * size_t(E);
    if (softmax_scores) {  // kernels::softmax over the E logits
        float mx = -INFINITY;
        for (int e = int(threadIdx.x); e < E; e += int(blockDim.x)) mx = lg[e] > mx ? lg[e] : mx;
        mx = block_reduce(mx, MaxOp{}, redf);
        double sum = 0;
        for (int e = int(threadIdx.x); e < E; e += int(blockDim.x)) {
            sc[e] = expf_rn(f_sub_rn(lg[e], mx));
            sum += double(sc[e]);
        }
        sum = block_reduce(sum, SumOp{}, redd);
        const float inv = float(1.0 / sum);
        for (int e = int(threadIdx.x); e < E; e += int(blockDim.x)) sc[e] = f_mul_rn(sc[e], inv);
    } else {  // 1 / (1 + exp(-logit))
        for (int e = int(threadIdx.x); e < E; e += int(blockDim.x)) sc[e] = f_div_rn(1.0f, f_add_rn(1.0f, expf_rn(-lg[e])));
    }
    __syncthreads();
    for (int e = int(threadIdx.x); e < E; e += int(blockDim.x)) {
        sb[e] = bias ? f_add_rn(sc[e], bias[e]) : sc[e];
        taken[e] = 0;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    const int per = E / n_group;
    for (int g = 0; g < n_group; ++g) {
        const float* v = sb + g * per;
        if (bias) {  // sum of the top 2 biased scores of the group
            float a = -INFINITY, b = -INFINITY;
            for (int j = 0; j < per; ++j) {
                if (v[j] > a) {
                    b = a;
                    a = v[j];
                } else if (v[j] > b) {
                    b = v[j];
                }
            }
            gs[g] = f_add_rn(a, b);
        } else {  // the group max (the first maximal element, as std::max_element)
            float a = v[0];
            for (int j = 1; j < per; ++j) a = v[j] > a ? v[j] : a;
            gs[g] = a;
        }
        keep[g] = 0;
    }
    for (int i = 0; i < topk_group; ++i) {
        int best = -1;
        for (int g = 0; g < n_group; ++g)
            if (!keep[g] && (best < 0 || gs[g] > gs[best])) best = g;
        keep[best] = 1;
    }
    int* out_ids = ids + size_t(s) * size_t(topk);
    float* out_w = weights + size_t(s) * size_t(topk);
    double sum = 0;
    for (int i = 0; i < topk; ++i) {
        int best = -1;
        float bk = 0;
        for (int e = 0; e < E; ++e) {
            if (taken[e]) continue;
            const float k = keep[e / per] ? sb[e] : -INFINITY;
            if (best < 0 || k > bk) {
                best = e;
                bk = k;
            }
        }
        taken[best] = 1;
        out_ids[i] = best;
        sum += double(sc[best]);
    }
    for (int i = 0; i < topk; ++i) {
        const double v = double(sc[out_ids[i]]);
        out_w[i] = softmax_scores ? float(v * route_scale) : float(v / sum * route_scale);
    }
}

// grid (E), block (256): block e places the choices c = s * topk + i with ids[c] == e, in ascending c (tokens
// ascending), at slots offsets[e] + rank; offsets[e] = the number of valid choices with id < e (so no separate scan).
__global__ void moe_bucket_kernel(const int32_t* ids, const float* weights, int n_choices, int E, int32_t* offsets,
                                  int32_t* rows, float* slot_weight, int32_t* slot_of, int topk) {
    __shared__ int red[kMaxWarps];
    __shared__ int scan[kMaxWarps];
    const int e = int(blockIdx.x);
    int below = 0, valid = 0;
    for (int c = int(threadIdx.x); c < n_choices; c += int(blockDim.x)) {
        const int id = ids[c];
        below += (id >= 0 && id < e);
        valid += (id >= 0 && id < E);
    }
    below = block_reduce(below, SumOp{}, red);
    valid = block_reduce(valid, SumOp{}, red);
    if (threadIdx.x == 0) {
        offsets[e] = below;
        if (e == E - 1) offsets[E] = valid;
    }
    int placed = 0;
    for (int c0 = 0; c0 < n_choices; c0 += int(blockDim.x)) {
        const int c = c0 + int(threadIdx.x);
        const int id = c < n_choices ? ids[c] : -1;
        const int mine = id == e;
        int total;
        const int rank = block_exclusive_scan(mine, &total, scan);
        if (mine) {
            const int slot = below + placed + rank;
            rows[slot] = c / topk;
            slot_weight[slot] = weights[c];
            slot_of[c] = slot;
        }
        if (e == 0 && c < n_choices && (id < 0 || id >= E)) slot_of[c] = -1;
        placed += total;
    }
}

// grid (S), block (256): out[s, d] += w * y[slot, d] over s's choices in ascending expert id.
__global__ void moe_combine_kernel(float* out, const float* y, const int32_t* ids, const float* weights,
                                   const int32_t* slot_of, int topk, int D) {
    const int s = int(blockIdx.x);
    const int32_t* is = ids + size_t(s) * size_t(topk);
    int order[kMaxTopk];
    int n = 0;
    for (int i = 0; i < topk; ++i) {  // insertion sort of the choices by expert id (stable)
        int j = n++;
        while (j > 0 && is[order[j - 1]] > is[i]) {
            order[j] = order[j - 1];
            --j;
        }
        order[j] = i;
    }
    float* o = out + size_t(s) * size_t(D);
    for (int d = int(threadIdx.x); d < D; d += int(blockDim.x)) {
        float acc = o[d];
        for (int j = 0; j < n; ++j) {
            const int c = s * topk + order[j];
            const int slot = slot_of[c];
            if (slot < 0) continue;
            acc = f_add_rn(acc, f_mul_rn(weights[c], y[size_t(slot) * size_t(D) + size_t(d)]));
        }
        o[d] = acc;
    }
}

}  // namespace dsv32::gpu::dev

#endif
