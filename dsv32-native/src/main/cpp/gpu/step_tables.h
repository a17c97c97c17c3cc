// step_tables.h: what a GPU engine's forward step needs from the paged KV cache (model/kv_cache.h), as plain arrays:
// per entry its rows of the stacked activations and the device base pointers of its blocks, per stacked row its
// entry and position. Built on the host from the cache's bookkeeping (no runtime call: the core library builds it for
// the HIP library too, which receives it through the C ABI, gpu/hip/hip_abi.h) and uploaded once per step.
#ifndef DSV32_GPU_STEP_TABLES_H
#define DSV32_GPU_STEP_TABLES_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/kv_cache.h"
#include "model/model.h"

namespace dsv32 {
namespace gpu {

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

// A whole step: the entries, their tokens stacked in row order, the cache tables and the cache layout.
struct StepInput {
    std::vector<StepSegment> segs;
    std::vector<int32_t> tokens;  // [rows]
    StepTables tables;
    int block_size = 0;           // KvCache::block_size()
    size_t layer_floats = 0;      // KvCache::layer_floats()
};

// Throws std::logic_error when an entry's blocks do not cover start + n positions (not reserved).
StepTables build_step_tables(const KvCache& cache, const std::vector<StepSegment>& segs);

// The step of Model::forward's contract (model/ranks.cpp): every entry's sequence open, n > 0, tokens given, blocks
// reserved (std::invalid_argument / std::logic_error otherwise); rows stacked in entry order.
StepInput make_step_input(const KvCache& cache, const std::vector<StepEntry>& entries);

// Checks a step that arrived as plain arrays (the HIP library's C ABI): sizes agree, every row's entry and position
// and every entry's block range are in bounds, rows cover each entry exactly. Throws std::invalid_argument naming the
// field.
void validate_step_input(const StepInput& in);

}  // namespace gpu
}  // namespace dsv32

#endif
