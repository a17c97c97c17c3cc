// device_kv_cache.h: the paged KV cache in device memory. The bookkeeping is model/kv_cache.h's, unchanged (blocks,
// reserve before a step, commit after, truncate, copy-on-write fork); only the BlockStore differs: blocks are cut
// from device slabs, and copy on write is a device-to-device copy. The rows of a block and layer are laid out as on
// the CPU (architecture.md §6.3 "Cached per layer", §7 k_cache): bs latents [kvr], bs k_pe [dr], bs indexer keys
// [ihd], f32.
//
// StepTables is what the kernels need to address a step's cache rows: per entry the device base pointers of its
// blocks (one flat array, entry i's blocks from tab0[i]), and per stacked row its entry and position. Built on the
// host (build_step_tables, no CUDA call: tested without a device) and uploaded once per step.
#ifndef DSV32_GPU_DEVICE_KV_CACHE_H
#define DSV32_GPU_DEVICE_KV_CACHE_H

#include <cstdint>
#include <memory>
#include <vector>

#include "model/kv_cache.h"

namespace dsv32 {
namespace gpu {

// Device blocks on device `ordinal`, allocated in slabs of about slab_bytes (at least one block each); freed with the
// store. Every call selects the device first (the cache may be used from any host thread).
std::shared_ptr<BlockStore> make_device_block_store(int ordinal = 0, size_t slab_bytes = size_t(64) << 20);

// One entry of a step as the kernels see it: rows [row0, row0 + n) of the stacked activations at positions
// start .. start + n - 1 of sequence seq, attending to keys 0 .. start + n - 1.
struct StepSegment {
    int seq = 0, row0 = 0, n = 0, start = 0;
};

struct StepTables {
    std::vector<uint64_t> block_ptr;  // device address of each block (layer 0's rows), entries one after another
    std::vector<int32_t> tab0;        // [entries] index of the entry's first block in block_ptr
    std::vector<int32_t> row_seg;     // [rows] the entry of each stacked row
    std::vector<int32_t> row_pos;     // [rows] the position of each row
    int max_keys = 0;                 // the most keys any row attends to (max start + n)
};

// Throws std::logic_error when an entry's blocks do not cover start + n positions (not reserved).
StepTables build_step_tables(const KvCache& cache, const std::vector<StepSegment>& segs);

}  // namespace gpu
}  // namespace dsv32

#endif
