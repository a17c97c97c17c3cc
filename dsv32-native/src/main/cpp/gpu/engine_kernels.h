// engine_kernels.h: host launchers of the engine's own GPU kernels (gpu/kernels/kv_cache.cuh, indexer_logits.cuh,
// attention.cuh): the paged KV cache writes and gathers, the DSA indexer logits over cached keys (architecture.md
// §7), MLA prefill in "MHA mode" over cached + new positions with the selected-keys mask (§6.2) and the absorbed
// sparse decode over the selected latent entries (§6.3). Conventions as gpu_kernels.h: device pointers unless
// "host", enqueued on `stream`, host-side argument checks throw std::invalid_argument naming the launcher.
#ifndef DSV32_GPU_ENGINE_KERNELS_H
#define DSV32_GPU_ENGINE_KERNELS_H

#include <cstddef>
#include <cstdint>

#include "gpu/gpu_kernels.h"
#include "gpu/portability.h"

namespace dsv32::gpu {

// Where a step's cache rows of one layer are (device_kv_cache.h StepTables, uploaded). Block b of entry e starts at
// block_ptr[tab0[e] + b] (layer 0); this layer's rows at + layer_off floats: bs latents [kvr], bs k_pe [dr], bs
// indexer keys [ihd] (model/kv_cache.h).
struct CacheRef {
    const uint64_t* block_ptr = nullptr;  // device
    const int32_t* tab0 = nullptr;        // device [entries]
    const int32_t* row_seg = nullptr;     // device [rows]: each stacked row's entry
    const int32_t* row_pos = nullptr;     // device [rows]: each row's position
    int bs = 0, kvr = 0, dr = 0, ihd = 0;
    int64_t layer_off = 0;                // layer * KvCache::layer_floats()
};

enum class CacheSlot : int { Latent = 0, KPe = 1, IndexKey = 2 };

// The slot's width (kvr, dr or ihd).
int cache_slot_width(const CacheRef& c, CacheSlot slot);

// Writes src[r, 0..width) (row stride ld; 0 = width) to the slot of row r's cache position, rows [0, rows).
void cache_store(const float* src, int rows, int ld, CacheSlot slot, const CacheRef& c, gpuStream_t stream);

// out[i, :] = the slot's row of (entry seg[i], position pos[i]), i in [0, n) (e.g. every cached latent of a prefill
// chunk's sequence for wkv_b). out is [n, width].
void cache_gather(CacheSlot slot, const CacheRef& c, const int32_t* seg, const int32_t* pos, int n, float* out,
                  gpuStream_t stream);

// DSA indexer scores (model/indexer.cpp): for rows r in [0, rows) and keys t in [0, row_pos[r] + 1):
//   scores[r * ld + t] = sum_h w[r, h] * ReLU(q[r, h, :] . k_t)   (w already scaled by n_heads^-0.5 hd^-0.5),
// k_t = the cached indexer key of row r's entry at position t; keys t in (row_pos[r], ld) get -inf. q [rows, nh, hd].
// row0: the rows are rows row0 .. row0 + rows - 1 of the step (row_seg / row_pos indices; q, w and scores start there).
void indexer_logits(const float* q, const float* w, int rows, int row0, int nh, int hd, const CacheRef& c, float* scores,
                    int ld, gpuStream_t stream);

// MLA prefill attention, MHA form over cached + new keys (mla.cpp, §6.2 widened to the cache): for each listed row r
// (rows[i], i < n_rows) and head h over the selected keys t = sel[r * K + j], j < count[r]:
//   s_j = (q_nope . k_nope(t) + q_pe . k_pe(t)) * scale,  p = softmax(s),  o[r, h, :] = sum_j p_j v(t)
// with [k_nope | v](t) = kvb[(kvb_row0[entry] + t) * H * (dn + dv) + h * (dn + dv) ..] (wkv_b of the cached latents)
// and k_pe(t) from the cache. q [rows, H, dn + dr], o [rows, H, dv]. K >= max count (selection row stride).
void mla_prefill(const float* q, const int32_t* rows, int n_rows, int H, int dn, int dr, int dv, const float* kvb,
                 const int64_t* kvb_row0, const CacheRef& c, const int32_t* sel, const int32_t* count, int K, float scale,
                 float* o, gpuStream_t stream);

// MLA absorbed decode (§6.3): per listed row r and head h: q_lat = W_UK(h)^T q_nope, s_j = (q_lat . c(t) + q_pe .
// k_pe(t)) * scale over the selected keys, p = softmax(s), o_lat = sum_j p_j c(t), o[r, h, :] = W_UV(h) o_lat, with
// W_UK(h) / W_UV(h) rows h*(dn+dv) .. +dn / +dn .. +dn+dv of wkv_b [H*(dn+dv), kvr], dequantised on the fly.
// bf16_ops (fp8 numerics, §6.5): q_lat, q_pe and p rounded to bf16 before their products, as the CPU engine does.
void mla_decode(const float* q, const int32_t* rows, int n_rows, int H, int dn, int dr, int dv, const GpuWeight& wkv_b,
                const CacheRef& c, const int32_t* sel, const int32_t* count, int K, float scale, bool bf16_ops, float* o,
                gpuStream_t stream);

}  // namespace dsv32::gpu

#endif
