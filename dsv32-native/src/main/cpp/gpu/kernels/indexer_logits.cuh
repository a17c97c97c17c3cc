// indexer_logits.cuh: the DSA lightning indexer's scores over the cached keys (architecture.md §7, model/indexer.cpp):
// I(s, t) = sum_h w_h * ReLU(q_h(s) . k(t)), w_h already scaled. One block per (row, tile of keys); the row's q
// [nh * hd] and w [nh] sit in shared memory, each thread scores one key at a time (the head dots in order, f32).
#ifndef DSV32_GPU_KERNELS_INDEXER_LOGITS_CUH
#define DSV32_GPU_KERNELS_INDEXER_LOGITS_CUH

#include "gpu/kernels/kv_cache.cuh"

namespace dsv32::gpu {

constexpr int kIndexerKeysPerBlock = 256;

// grid (ceil(ld / kIndexerKeysPerBlock), rows); dynamic shared memory (nh * hd + nh) floats.
__global__ void indexer_logits_kernel(const float* __restrict__ q, const float* __restrict__ w, int row0, int nh, int hd,
                                      CacheRef c, float* __restrict__ scores, int ld) {
    DSV32_DYNAMIC_SHARED(float, sh);
    float* qs = sh;
    float* ws = sh + nh * hd;
    const int r = blockIdx.y;
    const int sr = row0 + r;  // the row within the step
    const float* qr = q + size_t(r) * nh * hd;
    for (int i = threadIdx.x; i < nh * hd; i += blockDim.x) qs[i] = qr[i];
    for (int i = threadIdx.x; i < nh; i += blockDim.x) ws[i] = w[size_t(r) * nh + i];
    __syncthreads();
    const int seg = c.row_seg[sr];
    const int nkeys = c.row_pos[sr] + 1;  // causal: keys 0 .. pos
    const int t0 = blockIdx.x * kIndexerKeysPerBlock;
    const int t1 = ld < t0 + kIndexerKeysPerBlock ? ld : t0 + kIndexerKeysPerBlock;
    for (int t = t0 + threadIdx.x; t < t1; t += blockDim.x) {
        float acc = 0.0f;
        if (t < nkeys) {
            const float* k = cache_row(c, int(CacheSlot::IndexKey), seg, t);
            for (int h = 0; h < nh; ++h) {
                const float* qh = qs + h * hd;
                float d = 0.0f;
                for (int i = 0; i < hd; ++i) d += qh[i] * k[i];
                if (d > 0.0f) acc += ws[h] * d;
            }
        } else {
            acc = neg_inf();  // not a causal key
        }
        scores[size_t(r) * ld + t] = acc;
    }
}

}  // namespace dsv32::gpu

#endif
