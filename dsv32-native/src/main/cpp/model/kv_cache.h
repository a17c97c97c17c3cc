// kv_cache.h: the paged KV cache. What a layer caches per position (architecture.md §6.1, §6.3 "Cached per layer",
// §7 k_cache): the normalised MLA latent [kv_lora_rank], the RoPE'd k_pe [qk_rope_head_dim] and the indexer key
// [index_head_dim] (after LayerNorm, RoPE and Hadamard), f32. The CPU model in fp8 numerics stores each row as packed
// bf16 in the first half of its slot instead (model/mla.cpp, model/indexer.cpp): the values are bf16 there (the
// FP8-round-tripped latent and indexer key, the bf16 k_pe), so nothing is lost and decode reads half the bytes. The
// slots keep their f32 size (the layout the GPU backends share).
//
// This class owns all of it: one pool of fixed-size blocks of block_size positions, each block holding those three
// rows for every layer, and per sequence a block table (position t lives in block table[t / block_size], row
// t % block_size). Blocks are allocated on demand, up to max_blocks, and reused once freed (never given back to
// the OS: the RSS is the high-water mark). A block may be held by several sequences (fork); a block is written only
// while its holder is alone (copy on write, see reserve), so sharing a prefix never changes another sequence.
//
// Where the blocks live is a BlockStore: host memory by default; the CUDA backend passes a device-memory store
// (gpu/device_kv_cache.h), and then the bookkeeping here is the same while the rows are only read and written on
// the device (View's pointers are device pointers there; the host never dereferences them).
//
// Single-threaded use (the model's caller serialises); the forward step writes rows through a View.
#ifndef DSV32_MODEL_KV_CACHE_H
#define DSV32_MODEL_KV_CACHE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "dsv32/config.h"

namespace dsv32 {

// Memory for cache blocks: allocate returns a block of `floats` floats (throws std::bad_alloc when out of memory),
// copy duplicates a whole block (copy on write), release frees one. Blocks are never released while the cache lives.
class BlockStore {
public:
    virtual ~BlockStore() = default;
    virtual float* allocate(size_t floats) = 0;
    virtual void copy(float* dst, const float* src, size_t floats) = 0;
    virtual void release(float* block, size_t floats) = 0;
};

// Host memory: the CPU engine's store. Blocks are carved from chunks of at least 32 MB on 2 MB boundaries that the
// kernel is asked to back with transparent huge pages (madvise MADV_HUGEPAGE; a no-op where THP is off): a decode
// step reads the selected keys' rows scattered over the whole cache, so fewer, larger pages mean fewer TLB misses
// (measured only together with the bf16 decode attention: fp8 batch 4 on mini 27.5 -> 25.5 ms a step). Pages are
// touched only when rows are written (RSS grows with use, 2 MB at a time). The chunks go back to the OS with the store.
class HostBlockStore final : public BlockStore {
public:
    HostBlockStore() = default;
    HostBlockStore(const HostBlockStore&) = delete;
    HostBlockStore& operator=(const HostBlockStore&) = delete;
    ~HostBlockStore() override;
    float* allocate(size_t floats) override;
    void copy(float* dst, const float* src, size_t floats) override;
    void release(float* block, size_t floats) override;  // nothing until the store goes (blocks are never released
                                                        // while the cache lives)

private:
    std::vector<std::pair<void*, size_t>> chunks_;  // base, bytes
    size_t used_ = 0;  // bytes handed out of the last chunk
};

class KvCache {
public:
    // block_size >= 1 positions; max_blocks >= 1 (the pool's capacity); max_sequences >= 1 slots (ids 0 .. n-1).
    // store: where the blocks live (null = host memory).
    KvCache(const Config& cfg, int block_size, int64_t max_blocks, int max_sequences,
            std::shared_ptr<BlockStore> store = nullptr);
    ~KvCache();
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;

    int block_size() const { return bs_; }
    int64_t max_blocks() const { return max_blocks_; }
    int64_t free_blocks() const { return max_blocks_ - held_; }        // not held by any sequence
    int64_t allocated_blocks() const { return int64_t(blocks_.size()); }  // memory allocated (<= max_blocks)
    size_t block_bytes() const { return block_floats_ * sizeof(float); }
    int max_sequences() const { return int(seqs_.size()); }
    int open_sequences() const;
    int64_t used_tokens() const;
    // Fault injection (DSV32_DEBUG_KV_ALLOC_FAILS): allocating a new block fails with std::bad_alloc, as when the
    // system is out of memory, once `n` blocks are allocated (blocks already allocated are still reused). -1 = never.
    void fail_allocations_after(int64_t n) { fail_after_ = n; }  // sum of the open sequences' lengths (a shared prefix counts once per sequence)

    // ---- sequences ----
    int open();  // a new empty sequence; -1 when every slot is taken
    bool is_open(int seq) const { return seq >= 0 && size_t(seq) < seqs_.size() && seqs_[size_t(seq)].open; }
    int len(int seq) const { return seqs_[size_t(seq)].len; }
    void close(int seq);                   // its blocks go back to the pool
    void truncate(int seq, int new_len);   // 0 <= new_len <= len: forgets positions >= new_len, frees whole blocks
    int fork(int seq);                     // a new sequence sharing seq's blocks (copy on write); -1 when no slot

    // ---- a forward step ----
    // Blocks that reserve(seq, n) takes from the pool: the new blocks for positions len .. len+n-1, plus one copy
    // when the partly filled last block is shared.
    int64_t blocks_needed(int seq, int n) const;
    // The same for a whole step, entry by entry in the order reserve runs them: (seq, n) appends, distinct
    // sequences. Exact where sequences sharing a partly filled block all write in the step: the last of them to
    // reserve finds the block no longer shared and writes it in place.
    // Written to *need, whose memory is reused.
    void step_blocks_needed(const std::vector<std::pair<int, int>>& appends, std::vector<int64_t>* need) const;
    // Makes positions len .. len+n-1 writable (the sequence holds private blocks for them); len is unchanged.
    // The caller checks blocks_needed against free_blocks first. Throws std::bad_alloc when memory runs out: undo
    // with truncate(seq, len(seq)).
    void reserve(int seq, int n);
    void commit(int seq, int n) { seqs_[size_t(seq)].len += n; }  // after a successful step

    // Rows of one sequence and one layer, positions 0 .. len+reserved-1.
    class View {
    public:
        float* latent(int t) const { return base_[size_t(t / bs_)] + size_t(t % bs_) * size_t(kvr_); }
        float* k_pe(int t) const { return base_[size_t(t / bs_)] + pe_off_ + size_t(t % bs_) * size_t(dr_); }
        float* idx_k(int t) const { return base_[size_t(t / bs_)] + idx_off_ + size_t(t % bs_) * size_t(ihd_); }

    private:
        friend class KvCache;
        std::vector<float*> base_;  // per block of the table: the start of this layer's rows
        int bs_ = 1, kvr_ = 0, dr_ = 0, ihd_ = 0;
        size_t pe_off_ = 0, idx_off_ = 0;
    };
    View view(int seq, int layer) const;
    // The same into *v, reusing its memory (a forward pass keeps its views across layers and steps).
    void view(int seq, int layer, View* v) const;

    // The raw layout, for a backend that addresses blocks itself (gpu/): the block table of seq (block ids, one per
    // block_size positions, covering len + reserved positions), the memory of block b, and the floats one layer
    // takes within a block (layer l's rows start at block_data(b) + l * layer_floats(): bs latents [kvr], then bs
    // k_pe [dr], then bs indexer keys [ihd]).
    const std::vector<int32_t>& table(int seq) const { return seqs_[size_t(seq)].table; }
    float* block_data(int32_t b) const { return blocks_[size_t(b)]; }
    size_t layer_floats() const { return layer_floats_; }

private:
    int32_t take();            // a block for exclusive use (from the free list, else newly allocated)
    void release(int32_t b);   // one holder less; back to the free list at zero

    struct Seq {
        bool open = false;
        int len = 0;
        std::vector<int32_t> table;  // ceil(len / bs) blocks outside a step
    };
    int n_layers_, kvr_, dr_, ihd_, bs_;
    size_t layer_floats_, block_floats_;  // per layer within a block: bs * (kvr + dr + ihd)
    int64_t max_blocks_;
    int64_t held_ = 0;                          // blocks with refs > 0
    int64_t fail_after_ = -1;                   // fail_allocations_after
    std::shared_ptr<BlockStore> store_;
    std::vector<float*> blocks_;                // allocated blocks, owned through store_
    std::vector<int32_t> refs_;                 // holders per block
    std::vector<int32_t> free_;                 // allocated blocks with no holder
    std::vector<Seq> seqs_;
};

}  // namespace dsv32

#endif
