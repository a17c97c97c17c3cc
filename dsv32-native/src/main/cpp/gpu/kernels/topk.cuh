// topk.cuh: per-row top-k by MSD radix select (4 passes over 8-bit digits of the float order key: O(n) per pass,
// never a sort), then an ordered scan that emits the selected positions ascending. Used by the DSA indexer's
// selection (architecture.md §7) and, through radix_select / nth_in_order, by GPU sampling's top-k.
//
// Ties: model/indexer.cpp orders keys by (score descending, position ascending) and takes the first k, i.e. of the
// entries equal to the k-th largest score, the ones at the LOWEST positions are selected. The radix select finds the
// k-th largest key and how many entries equal to it are still needed (need_eq); the ordered scan takes the first
// need_eq of them in position order: the same set as the CPU.
#ifndef DSV32_GPU_KERNELS_TOPK_CUH
#define DSV32_GPU_KERNELS_TOPK_CUH

#include "gpu/kernels/common.cuh"

namespace dsv32::gpu::dev {

// Monotone map of the selectable floats onto uint32 (a larger float gives a larger key); -0 and +0 share a key
// (they compare equal); -inf and NaN map to 0 = "not selectable". Finite keys are >= 0x00800000.
__device__ __forceinline__ uint32_t order_key(float v) {
    if (isnan(v) || v == -INFINITY) return 0u;
    const uint32_t b = __float_as_uint(f_add_rn(v, 0.0f));  // -0 + 0 = +0
    return b ^ (uint32_t(int32_t(b) >> 31) | 0x80000000u);
}
// The float of a non-zero key (the +0 for the zero key class).
__device__ __forceinline__ float key_value(uint32_t k) {
    const uint32_t b = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
    return __uint_as_float(b);
}

struct RadixSelectResult {
    uint32_t kth;  // the key of the k-th largest selectable entry
    int need_eq;   // how many entries with key == kth belong to the k largest (>= 1)
};

struct RadixScratch {
    unsigned hist[256];
    int bcast[2];
    int scan[kMaxWarps];
    int result;
};

// The k-th largest non-zero key_at(i), i in [0, len); 1 <= k <= number of non-zero keys. All threads of the block
// call it and get the result.
template <typename KeyAt>
__device__ RadixSelectResult radix_select(KeyAt key_at, int len, int k, RadixScratch& sh) {
    const int tid = int(threadIdx.x), bd = int(blockDim.x);
    uint32_t prefix = 0, mask = 0;
    int remaining = k;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = tid; b < 256; b += bd) sh.hist[b] = 0;
        __syncthreads();
        for (int i = tid; i < len; i += bd) {
            const uint32_t key = key_at(i);
            if (key != 0 && (key & mask) == prefix) atomicAdd(&sh.hist[(key >> shift) & 0xFFu], 1u);
        }
        __syncthreads();
        if (tid == 0) {
            int cum = 0, b = 255;
            for (; b > 0; --b) {  // from the largest digit down: the bucket holding the remaining-th largest
                if (cum + int(sh.hist[b]) >= remaining) break;
                cum += int(sh.hist[b]);
            }
            sh.bcast[0] = b;
            sh.bcast[1] = remaining - cum;
        }
        __syncthreads();
        prefix |= uint32_t(sh.bcast[0]) << shift;
        mask |= 0xFFu << shift;
        remaining = sh.bcast[1];
        __syncthreads();
    }
    return {prefix, remaining};
}

// The index of the c-th (1-based) i in [0, len) with pred(i), scanning in ascending i; -1 if there are fewer.
template <typename Pred>
__device__ int nth_in_order(Pred pred, int len, int c, RadixScratch& sh) {
    const int tid = int(threadIdx.x), bd = int(blockDim.x);
    if (tid == 0) sh.result = -1;
    int before = 0;
    for (int i0 = 0; i0 < len && before < c; i0 += bd) {
        const int i = i0 + tid;
        const int p = (i < len && pred(i)) ? 1 : 0;
        int tot;
        const int r = block_exclusive_scan(p, &tot, sh.scan);
        if (p && before + r == c - 1) sh.result = i;
        before += tot;
    }
    __syncthreads();
    const int res = sh.result;
    __syncthreads();
    return res;
}

constexpr int kTopkThreads = 512;

// grid (rows), block (kTopkThreads).
__global__ void __launch_bounds__(kTopkThreads) topk_kernel(const float* scores, int n, int ld, const int32_t* lengths,
                                                            int k, int32_t* out_idx, int32_t* out_count) {
    __shared__ RadixScratch sh;
    __shared__ int red[kMaxWarps];
    const int r = int(blockIdx.x), tid = int(threadIdx.x), bd = int(blockDim.x);
    int len = lengths ? lengths[r] : n;
    len = len < 0 ? 0 : (len > n ? n : len);
    const float* sr = scores + size_t(r) * size_t(ld);
    auto key_at = [sr](int i) { return order_key(sr[i]); };
    int valid = 0;
    for (int i = tid; i < len; i += bd) valid += key_at(i) != 0;
    valid = block_reduce(valid, SumOp{}, red);
    const int target = valid < k ? valid : k;
    RadixSelectResult sel{0u, 0};  // kth 0: every selectable entry is in (target == valid)
    if (target > 0 && target < valid) sel = radix_select(key_at, len, target, sh);
    int32_t* out = out_idx + size_t(r) * size_t(k);
    int eq_before = 0, count = 0;
    for (int i0 = 0; i0 < len && count < target; i0 += bd) {
        const int i = i0 + tid;
        const uint32_t key = i < len ? key_at(i) : 0u;
        const int gt = key > sel.kth;
        const int eq = sel.kth != 0 && key == sel.kth;
        int tot;
        const int er = block_exclusive_scan(eq, &tot, sh.scan);
        const int take = gt || (eq && eq_before + er < sel.need_eq);
        eq_before += tot;
        const int pr = block_exclusive_scan(take, &tot, sh.scan);
        if (take) out[count + pr] = i;
        count += tot;
    }
    for (int j = count + tid; j < k; j += bd) out[j] = -1;
    if (out_count && tid == 0) out_count[r] = count;
}

}  // namespace dsv32::gpu::dev

#endif
