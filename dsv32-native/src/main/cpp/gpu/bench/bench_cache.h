// bench_cache.h: a KV cache for the benchmark's decode rows, addressed as the engine addresses its paged cache
// (engine_kernels.h CacheRef): `seqs` sequences of `ctx` positions, each in one block of ctx rows (block size = ctx,
// so one block table entry per sequence), layout as model/kv_cache.h: ctx latents [kvr], ctx k_pe [dr], ctx indexer
// keys [ihd], f32, random in [-1, 1). Decode row r belongs to sequence r at its last position ctx - 1.
#ifndef DSV32_GPU_BENCH_BENCH_CACHE_H
#define DSV32_GPU_BENCH_BENCH_CACHE_H

#include "gpu/bench/bench_device.h"
#include "gpu/bench/bench_plan.h"
#include "gpu/engine_kernels.h"

namespace dsv32::gpu::bench {

CacheRef make_decode_cache(TensorMaker& make, const ModelDims& m, int seqs, int ctx, const Stream& stream);

// Bytes of one cached position of each slot (f32).
inline double latent_row_bytes(const ModelDims& m) { return 4.0 * (m.kvr + m.dr); }  // latent + k_pe
inline double index_key_bytes(const ModelDims& m) { return 4.0 * m.ihd; }

}  // namespace dsv32::gpu::bench

#endif
