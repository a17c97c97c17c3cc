// device_kv_cache.cpp: the device block store (device_kv_cache.h).
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
        if (!slabs_.empty()) (void)gpuSetDevice(ordinal_);
        for (void* s : slabs_) (void)gpuFree(s);
    }
    float* allocate(size_t floats) override {
        check(gpuSetDevice(ordinal_), "gpuSetDevice");
        const size_t bytes = floats * sizeof(float);
        if (left_ == 0 || floats != floats_) {  // a new slab of whole blocks
            const size_t per = std::max<size_t>(1, slab_bytes_ / bytes);
            void* p = nullptr;
            check(gpuMalloc(&p, per * bytes), "gpuMalloc (KV cache slab)");  // std::bad_alloc when out of memory
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
        check(gpuSetDevice(ordinal_), "gpuSetDevice");
        check(gpuMemcpy(dst, src, floats * sizeof(float), gpuMemcpyDeviceToDevice), "gpuMemcpy (KV cache copy on write)");
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

}  // namespace gpu
}  // namespace dsv32
