// kv_cache.cpp: the paged KV cache (kv_cache.h).
#include "model/kv_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace dsv32 {

namespace {
constexpr size_t kHugePage = size_t(2) << 20, kChunk = size_t(32) << 20;
}

float* HostBlockStore::allocate(size_t floats) {
    // Blocks on 64-byte boundaries, so that the rows (2 KB latents, 256 B k_pe) are whole cache lines for the
    // attention kernels; not value-initialised.
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    if (chunks_.empty() || chunks_.back().second - used_ < bytes) {
        const size_t size = std::max(kChunk, (bytes + kHugePage - 1) / kHugePage * kHugePage);
        void* p = nullptr;
        if (posix_memalign(&p, kHugePage, size) != 0) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
        madvise(p, size, MADV_HUGEPAGE);  // advice: failure (THP off) changes nothing but speed
#endif
        chunks_.emplace_back(p, size);
        used_ = 0;
    }
    float* b = reinterpret_cast<float*>(static_cast<char*>(chunks_.back().first) + used_);
    used_ += bytes;
    return b;
}

void HostBlockStore::copy(float* dst, const float* src, size_t floats) { std::memcpy(dst, src, floats * sizeof(float)); }

void HostBlockStore::release(float*, size_t) {}

HostBlockStore::~HostBlockStore() {
    for (const auto& c : chunks_) std::free(c.first);
}

KvCache::KvCache(const Config& cfg, int block_size, int64_t max_blocks, int max_sequences, std::shared_ptr<BlockStore> store)
    : n_layers_(cfg.num_hidden_layers),
      kvr_(cfg.kv_lora_rank),
      dr_(cfg.qk_rope_head_dim),
      ihd_(cfg.index_head_dim),
      bs_(block_size),
      max_blocks_(max_blocks),
      store_(store ? std::move(store) : std::make_shared<HostBlockStore>()) {
    if (block_size < 1 || max_blocks < 1 || max_sequences < 1)
        throw std::invalid_argument("KvCache: block_size, max_blocks and max_sequences must be >= 1");
    // Block ids are int32; a larger pool could not be allocated anyway.
    max_blocks_ = std::min<int64_t>(max_blocks_, std::numeric_limits<int32_t>::max());
    layer_floats_ = size_t(bs_) * size_t(kvr_ + dr_ + ihd_);
    block_floats_ = layer_floats_ * size_t(n_layers_);
    seqs_.resize(size_t(max_sequences));
}

KvCache::~KvCache() {
    for (float* b : blocks_) store_->release(b, block_floats_);
}

int KvCache::open_sequences() const {
    int n = 0;
    for (const Seq& s : seqs_) n += s.open;
    return n;
}

int64_t KvCache::used_tokens() const {
    int64_t n = 0;
    for (const Seq& s : seqs_)
        if (s.open) n += s.len;
    return n;
}

int KvCache::open() {
    for (size_t i = 0; i < seqs_.size(); ++i) {
        if (seqs_[i].open) continue;
        seqs_[i] = Seq();
        seqs_[i].open = true;
        return int(i);
    }
    return -1;
}

void KvCache::close(int seq) {
    Seq& s = seqs_[size_t(seq)];
    for (int32_t b : s.table) release(b);
    s = Seq();
}

void KvCache::truncate(int seq, int new_len) {
    Seq& s = seqs_[size_t(seq)];
    if (new_len < 0 || new_len > int(s.table.size()) * bs_)
        throw std::invalid_argument("KvCache::truncate: length " + std::to_string(new_len) + " out of range");
    const size_t keep = size_t((int64_t(new_len) + bs_ - 1) / bs_);
    for (size_t i = keep; i < s.table.size(); ++i) release(s.table[i]);
    s.table.resize(keep);
    s.len = new_len;  // rows >= new_len of the kept last block are stale and never read (positions < len only)
}

int KvCache::fork(int seq) {
    const int id = open();
    if (id < 0) return -1;
    const Seq& from = seqs_[size_t(seq)];
    Seq& to = seqs_[size_t(id)];
    to.table = from.table;
    to.len = from.len;
    for (int32_t b : to.table) ++refs_[size_t(b)];
    return id;
}

int64_t KvCache::blocks_needed(int seq, int n) const {
    const Seq& s = seqs_[size_t(seq)];
    const int64_t have = int64_t(s.table.size()), want = (int64_t(s.len) + n + bs_ - 1) / bs_;
    int64_t need = want > have ? want - have : 0;
    if (n > 0 && s.len % bs_ != 0 && refs_[size_t(s.table[size_t(s.len / bs_)])] > 1) ++need;  // copy on write
    return need;
}

void KvCache::step_blocks_needed(const std::vector<std::pair<int, int>>& appends, std::vector<int64_t>* out) const {
    std::vector<int64_t>& need = *out;
    need.clear();
    thread_local std::vector<std::pair<int32_t, int>> writers;  // shared partly filled block -> writers reserved before
    writers.clear();                                             // this one (reused: a decode step allocates nothing)
    for (const auto& a : appends) {
        const Seq& s = seqs_[size_t(a.first)];
        const int n = a.second;
        const int64_t have = int64_t(s.table.size()), want = (int64_t(s.len) + n + bs_ - 1) / bs_;
        int64_t k = want > have ? want - have : 0;
        if (n > 0 && s.len % bs_ != 0) {
            const int32_t b = s.table[size_t(s.len / bs_)];
            int before = 0;
            auto it = std::find_if(writers.begin(), writers.end(), [b](const std::pair<int32_t, int>& w) { return w.first == b; });
            if (it == writers.end()) writers.emplace_back(b, 1);
            else before = it->second++;
            if (refs_[size_t(b)] - before > 1) ++k;  // still shared when this one reserves: copy on write
        }
        need.push_back(k);
    }
}

void KvCache::reserve(int seq, int n) {
    Seq& s = seqs_[size_t(seq)];
    if (n <= 0) return;
    if (s.len % bs_ != 0) {  // the partly filled last block is written next: make it private first
        int32_t& b = s.table[size_t(s.len / bs_)];
        if (refs_[size_t(b)] > 1) {
            const int32_t copy = take();
            store_->copy(blocks_[size_t(copy)], blocks_[size_t(b)], block_floats_);
            release(b);
            b = copy;
        }
    }
    const size_t want = size_t((int64_t(s.len) + n + bs_ - 1) / bs_);
    while (s.table.size() < want) s.table.push_back(take());
}

int32_t KvCache::take() {
    int32_t b;
    if (!free_.empty()) {
        b = free_.back();
        free_.pop_back();
    } else {
        if (int64_t(blocks_.size()) >= max_blocks_) throw std::logic_error("KvCache: pool exhausted (capacity not checked)");
        if (fail_after_ >= 0 && int64_t(blocks_.size()) >= fail_after_) throw std::bad_alloc();  // injected fault
        // Everything that can throw (std::bad_alloc) comes before any change.
        if (blocks_.size() == blocks_.capacity()) blocks_.reserve(std::max<size_t>(16, 2 * blocks_.size()));
        if (refs_.size() == refs_.capacity()) refs_.reserve(std::max<size_t>(16, 2 * refs_.size()));
        float* mem = store_->allocate(block_floats_);
        blocks_.push_back(mem);  // cannot throw: capacity reserved above
        refs_.push_back(0);
        b = int32_t(blocks_.size() - 1);
    }
    refs_[size_t(b)] = 1;
    ++held_;
    return b;
}

void KvCache::release(int32_t b) {
    if (--refs_[size_t(b)] == 0) {
        free_.push_back(b);
        --held_;
    }
}

KvCache::View KvCache::view(int seq, int layer) const {
    View v;
    view(seq, layer, &v);
    return v;
}

void KvCache::view(int seq, int layer, View* v) const {
    const Seq& s = seqs_[size_t(seq)];
    v->bs_ = bs_;
    v->kvr_ = kvr_;
    v->dr_ = dr_;
    v->ihd_ = ihd_;
    v->pe_off_ = size_t(bs_) * size_t(kvr_);
    v->idx_off_ = size_t(bs_) * size_t(kvr_ + dr_);
    v->base_.clear();
    v->base_.reserve(s.table.size());
    for (int32_t b : s.table) v->base_.push_back(blocks_[size_t(b)] + size_t(layer) * layer_floats_);
}

}  // namespace dsv32
