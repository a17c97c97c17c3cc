// device_kv_cache.h: the paged KV cache in device memory. The bookkeeping is model/kv_cache.h's, unchanged (blocks,
// reserve before a step, commit after, truncate, copy-on-write fork); only the BlockStore differs: blocks are cut
// from device slabs, and copy on write is a device-to-device copy. The rows of a block and layer are laid out as on
// the CPU (architecture.md §6.3 "Cached per layer", §7 k_cache): bs latents [kvr], bs k_pe [dr], bs indexer keys
// [ihd], f32.
// The step's tables over these blocks: gpu/step_tables.h.
#ifndef DSV32_GPU_DEVICE_KV_CACHE_H
#define DSV32_GPU_DEVICE_KV_CACHE_H

#include <cstdint>
#include <memory>
#include <vector>

#include "gpu/step_tables.h"  // StepSegment, StepTables, build_step_tables
#include "model/kv_cache.h"

namespace dsv32 {
namespace gpu {

// Device blocks on device `ordinal`, allocated in slabs of about slab_bytes (at least one block each); freed with the
// store. Every call selects the device first (the cache may be used from any host thread).
std::shared_ptr<BlockStore> make_device_block_store(int ordinal = 0, size_t slab_bytes = size_t(64) << 20);

}  // namespace gpu
}  // namespace dsv32

#endif
