// weight_arena.cpp: the huge-page copy of the streamed weight matrices (weight_arena.h).
#include "model/weight_arena.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/mman.h>

#include "model/model.h"

namespace dsv32 {

namespace {

constexpr size_t HUGE_PAGE = size_t(2) << 20;

}  // namespace

void WeightArena::add(const Linear& L) {
    if (mem_ || !L.raw || L.out <= 0 || L.in <= 0) return;
    if (L.type != kernels::WType::FP8 && L.type != kernels::WType::BF16) return;  // F32 Linears live in Weights::owned
    ranges_.push_back({static_cast<const uint8_t*>(L.raw), L.view_bytes()});
    merged_ = false;
}

void WeightArena::merge() {
    if (merged_) return;
    std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.src < b.src; });
    std::vector<Range> out;
    for (const Range& r : ranges_) {
        if (!out.empty() && r.src < out.back().src + out.back().len) {  // overlapping views (of one tensor): one range
            const uint8_t* end = std::max(out.back().src + out.back().len, r.src + r.len);
            out.back().len = size_t(end - out.back().src);
        } else {
            out.push_back(r);
        }
    }
    // Arena offsets: each range at its source address modulo 64, so that every row keeps its cache-line alignment.
    size_t off = 0;
    for (Range& r : out) {
        off = (off + 63) / 64 * 64 + size_t(reinterpret_cast<uintptr_t>(r.src) % 64);
        r.off = off;
        off += r.len;
    }
    ranges_ = std::move(out);
    merged_ = true;
}

size_t WeightArena::bytes() {
    merge();
    size_t n = 0;
    for (const Range& r : ranges_) n += r.len;
    return n;
}

bool WeightArena::allocate() {
    merge();
    if (mem_ || ranges_.empty()) return false;
    const size_t need = ranges_.back().off + ranges_.back().len;
    const size_t alloc = (need + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    mem_.reset(static_cast<uint8_t*>(std::aligned_alloc(HUGE_PAGE, alloc)));
    if (!mem_) return false;
#if defined(MADV_HUGEPAGE)
    madvise(mem_.get(), alloc, MADV_HUGEPAGE);  // advice: a no-op where transparent huge pages are off
#endif
    return true;
}

void WeightArena::copy(int n_threads, int batches, const std::function<void(const void*, size_t)>& release,
                       const std::function<void(size_t)>& done) {
    if (!mem_) return;
    const size_t total = bytes(), step = std::max<size_t>(1, total / size_t(std::max(1, batches)));
    size_t i = 0;
    while (i < ranges_.size()) {  // a batch: ranges up to about `step` bytes (at least one)
        size_t j = i, got = 0;
        while (j < ranges_.size() && (j == i || got + ranges_[j].len <= step)) got += ranges_[j++].len;
        // Within a batch, 1 MB pieces spread over the threads (one range can be most of a batch).
        constexpr size_t PIECE = size_t(1) << 20;
        std::vector<std::pair<size_t, size_t>> pieces;  // (range, offset)
        for (size_t k = i; k < j; ++k)
            for (size_t o = 0; o < ranges_[k].len; o += PIECE) pieces.emplace_back(k, o);
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads > 0 ? n_threads : 1) if (n_threads > 1 && pieces.size() > 1)
#endif
        for (long p = 0; p < long(pieces.size()); ++p) {
            const Range& r = ranges_[pieces[size_t(p)].first];
            const size_t o = pieces[size_t(p)].second;
            std::memcpy(mem_.get() + r.off + o, r.src + o, std::min(PIECE, r.len - o));
        }
        if (release)
            for (size_t k = i; k < j; ++k) release(ranges_[k].src, ranges_[k].len);
        if (done) done(got);
        i = j;
    }
}

const WeightArena::Range* WeightArena::find(const void* p) const {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), b, [](const uint8_t* x, const Range& r) { return x < r.src; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return b < it->src + it->len ? &*it : nullptr;
}

void WeightArena::repoint(Linear* L) const {
    if (!mem_ || !L->raw || (L->type != kernels::WType::FP8 && L->type != kernels::WType::BF16)) return;
    const Range* r = find(L->raw);
    if (!r) return;
    const uint8_t* b = static_cast<const uint8_t*>(L->raw);
    if (size_t(b - r->src) + L->view_bytes() > r->len) return;  // not wholly inside (cannot happen for an added view)
    L->raw = mem_.get() + r->off + size_t(b - r->src);
}

bool weight_arena_fits(size_t bytes, const std::string& meminfo) {
    std::string text = meminfo;
    if (text.empty()) {
        std::ifstream in("/proc/meminfo");
        if (!in) return false;
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    std::istringstream lines(text);
    std::string key;
    while (lines >> key) {
        if (key == "MemAvailable:") {
            unsigned long long kb = 0;
            if (!(lines >> kb)) return false;
            return bytes <= kb * 1024ull / 2;
        }
        std::getline(lines, key);  // the rest of the line
    }
    return false;
}

}  // namespace dsv32
