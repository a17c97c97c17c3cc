// device_kv_cache.cpp: device block store and the step tables (device_kv_cache.h).
#include "gpu/device_kv_cache.h"

#include "gpu/host_runtime.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "gpu/device.h"

namespace dsv32 {
namespace gpu {

namespace {

class DeviceBlockStore final : public BlockStore {
public:
    DeviceBlockStore(int ordinal, size_t slab_bytes) : ordinal_(ordinal), slab_bytes_(slab_bytes) {}
    ~DeviceBlockStore() override {
        if (!slabs_.empty()) (void)cudaSetDevice(ordinal_);
        for (void* s : slabs_) (void)cudaFree(s);
    }
    float* allocate(size_t floats) override {
        check(cudaSetDevice(ordinal_), "cudaSetDevice");
        const size_t bytes = floats * sizeof(float);
        if (left_ == 0 || floats != floats_) {  // a new slab of whole blocks
            const size_t per = std::max<size_t>(1, slab_bytes_ / bytes);
            void* p = nullptr;
            check(cudaMalloc(&p, per * bytes), "cudaMalloc (KV cache slab)");  // std::bad_alloc when out of memory
            slabs_.push_back(p);
            next_ = static_cast<float*>(p);
            left_ = per;
            floats_ = floats;
        }
        float* b = next_;
        next_ += floats;
        --left_;
        return b;
    }
    void copy(float* dst, const float* src, size_t floats) override {
        // Synchronous: the engine's stream has finished the previous step (forward ends with a sync), and the copy
        // is complete before the next step is launched.
        check(cudaSetDevice(ordinal_), "cudaSetDevice");
        check(cudaMemcpy(dst, src, floats * sizeof(float), cudaMemcpyDeviceToDevice), "cudaMemcpy (KV cache copy on write)");
    }
    void release(float*, size_t) override {}  // slabs go with the store

private:
    int ordinal_;
    size_t slab_bytes_;
    std::vector<void*> slabs_;
    float* next_ = nullptr;
    size_t left_ = 0, floats_ = 0;
};

}  // namespace

std::shared_ptr<BlockStore> make_device_block_store(int ordinal, size_t slab_bytes) {
    return std::make_shared<DeviceBlockStore>(ordinal, slab_bytes);
}

StepTables build_step_tables(const KvCache& cache, const std::vector<StepSegment>& segs) {
    StepTables t;
    const int bs = cache.block_size();
    int rows = 0;
    for (const StepSegment& g : segs) rows = std::max(rows, g.row0 + g.n);
    t.row_seg.assign(size_t(rows), -1);
    t.row_pos.assign(size_t(rows), 0);
    for (size_t i = 0; i < segs.size(); ++i) {
        const StepSegment& g = segs[i];
        const int end = g.start + g.n;
        const std::vector<int32_t>& table = cache.table(g.seq);
        const size_t need = size_t((int64_t(end) + bs - 1) / bs);
        if (table.size() < need)
            throw std::logic_error("gpu step tables: sequence " + std::to_string(g.seq) + " holds " + std::to_string(table.size()) +
                                   " blocks, positions up to " + std::to_string(end) + " need " + std::to_string(need));
        t.tab0.push_back(int32_t(t.block_ptr.size()));
        for (size_t b = 0; b < need; ++b) t.block_ptr.push_back(uint64_t(reinterpret_cast<uintptr_t>(cache.block_data(table[b]))));
        for (int s = 0; s < g.n; ++s) {
            t.row_seg[size_t(g.row0 + s)] = int32_t(i);
            t.row_pos[size_t(g.row0 + s)] = g.start + s;
        }
        t.max_keys = std::max(t.max_keys, end);
    }
    return t;
}

}  // namespace gpu
}  // namespace dsv32
