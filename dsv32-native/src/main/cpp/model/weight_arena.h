// weight_arena.h: the CPU backend's copy of the weight matrices a decode step streams, in anonymous memory with
// transparent huge pages, instead of the checkpoint's file mapping (4 KB page-cache pages).
//
// What: the byte ranges of the FP8 / BF16 Linears of every layer (attention, indexer, gate, dense MLP, shared and
// routed experts; not the embedding, whose rows are read one token at a time, nor the head, which the AVX-512 path
// reads from its row panels). Overlapping views (a tensor and the model-parallel ranks' slices of it) merge into one
// range, so a view keeps its place relative to the rest of its tensor, and each range keeps its offset modulo 64 (rows
// stay on the same cache-line boundaries). After the copy the Linears point into the arena; the mapped source pages
// are released batch by batch as they are copied, so the resident memory stays about what the mapping's would have
// been (mini, fp8, after 20 decode steps: 736 MB against 697; the open 0.15-0.9 s instead of 0.08).
//
// Why: the decode GEMVs read every one of these bytes once a step, and on the 2-vCPU EPYC they streamed faster from
// huge-page memory. mini's fp8 decode at context 1024, two models in one process with their steps alternating: in
// minutes when the box's memory was fast, batch 1 10.10-10.33 -> 9.73-10.01 ms a step and batch 4 18.49-18.62 ->
// 18.09-18.28; in a slow minute 13.14 -> 13.00 and 20.68 -> 20.44. The routed experts gain most (1.19 -> 1.07 ms a
// batch-1 step in a timer build); a copy into 4 KB pages gained about half of it.
//
// When: Model::init_ranks, on the CPU backend, in the "pack" stage of the load progress; skipped (the mapping serves)
// with DSV32_WEIGHT_ARENA=0, or when the copy would take more than half of MemAvailable (/proc/meminfo).
#ifndef DSV32_MODEL_WEIGHT_ARENA_H
#define DSV32_MODEL_WEIGHT_ARENA_H

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dsv32 {

struct Linear;  // model.h

class WeightArena {
public:
    // Plans the copy of L's bytes (FP8 / BF16 Linears with data; anything else is ignored). Before allocate().
    void add(const Linear& L);
    // Bytes the copy holds (the merged ranges).
    size_t bytes();
    // Allocates the arena (2 MB aligned, MADV_HUGEPAGE). False, with nothing allocated, when there is nothing to copy
    // or the allocation fails.
    bool allocate();
    // Copies the ranges (n_threads OpenMP threads) in batches of about bytes() / batches; after each batch, on the
    // calling thread, release(source, bytes) for each of its ranges (their mapped pages are not read again, so the
    // copy never holds both whole), then done(bytes copied). allocate() first.
    void copy(int n_threads, int batches, const std::function<void(const void*, size_t)>& release,
              const std::function<void(size_t)>& done);
    // L's data moved into the arena, if it lies in a copied range (any Linear: views of a copied tensor included).
    void repoint(Linear* L) const;
    bool empty() const { return !mem_; }

private:
    struct Range {
        const uint8_t* src;
        size_t len;
        size_t off = 0;  // in the arena
    };
    void merge();
    const Range* find(const void* p) const;
    std::vector<Range> ranges_;
    bool merged_ = true;
    struct Free {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t[], Free> mem_;
};

// Whether `bytes` more of anonymous memory fit: at most half of MemAvailable (/proc/meminfo, Linux); false where it
// cannot be read. `meminfo` is the file's text (tests); empty reads /proc/meminfo.
bool weight_arena_fits(size_t bytes, const std::string& meminfo = "");

}  // namespace dsv32

#endif
