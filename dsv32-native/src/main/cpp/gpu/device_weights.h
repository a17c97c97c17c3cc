// device_weights.h: the checkpoint's weights in device memory, as stored: FP8 stays e4m3 bytes with f32 block scales,
// BF16 stays BF16, F32 (and F16 sources, converted by the loader) f32. One owner: a single device arena holds every
// tensor; the GpuWeight views and vector pointers below point into it. Upload streams the bytes of the mmap'd
// checkpoint through two pinned staging buffers (copy of one overlaps the fill of the other), reporting progress as
// the stage "upload" (bytes done, bytes total).
#ifndef DSV32_GPU_DEVICE_WEIGHTS_H
#define DSV32_GPU_DEVICE_WEIGHTS_H

#include <cstdint>
#include <vector>

#include "dsv32/config.h"
#include "gpu/device.h"
#include "gpu/gpu_kernels.h"
#include "model/model.h"

namespace dsv32 {
namespace gpu {

struct DeviceFfn {  // SwiGLU: w2(silu(w1 x) * w3 x)
    GpuWeight w1, w2, w3;
};

struct DeviceLayer {
    const float* attn_norm = nullptr;
    const float* ffn_norm = nullptr;
    GpuWeight wq_a, wq_b, wkv_a, wkv_b, wo;
    const float* q_norm = nullptr;
    const float* kv_norm = nullptr;
    GpuWeight idx_wq_b, idx_wk, idx_wproj;
    const float* idx_knorm_w = nullptr;
    const float* idx_knorm_b = nullptr;
    bool moe = false;
    DeviceFfn dense;       // !moe
    GpuWeight gate;        // moe: [E, dim]
    const float* gate_bias = nullptr;  // moe: [E] or null (no noaux_tc bias)
    DeviceFfn shared;      // moe, when n_shared_experts > 0
    // moe: device arrays of the E routed experts' views (grouped_linear's `weights`).
    const GpuWeight* experts_w1 = nullptr;
    const GpuWeight* experts_w3 = nullptr;
    const GpuWeight* experts_w2 = nullptr;
    bool experts_fp8 = false;  // the routed experts are FP8 (fp8 numerics quantises their inputs)
};

struct DeviceWeights {
    GpuWeight embed, head;
    const float* norm = nullptr;
    const float* rope_freqs = nullptr;  // [qk_rope_head_dim / 2], Rope::freqs
    std::vector<DeviceLayer> layers;
    DeviceBuffer arena;                 // everything above points into it
    int64_t bytes = 0;                  // bytes uploaded
};

// The device view of a host Linear (data / scale pointers translated by the uploader). Exposed for tests.
GpuWeight device_view(const Linear& L, const void* data, const float* scale);

// Uploads w (views into the checkpoint mapping, model/weights.cpp) and the RoPE table. Throws std::bad_alloc when
// device memory runs out, DeviceError on other runtime failures.
DeviceWeights upload_weights(const Config& cfg, const Weights& w, const std::vector<float>& rope_freqs, const Stream& stream,
                             const Progress& progress);

}  // namespace gpu
}  // namespace dsv32

#endif
