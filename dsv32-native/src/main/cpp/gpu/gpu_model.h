// gpu_model.h: the GPU engine (model/backend.h Engine), CUDA in libdsv32 or HIP in libdsv32_hip.so: one GPU, mp = 1 (multi-GPU is issue #8). The checkpoint is
// loaded and validated by the CPU loader (model/weights.cpp), uploaded once (device_weights.h), and the forward pass
// runs on the device in transformer.cpp's order with the same numerics modes: f32 (the golden reference) and fp8
// (bf16 activations, act_quant round trips before FP8 GEMMs, FP8 latent and indexer q/k, bf16 decode attention query
// and probabilities). The KV cache is the paged
// KvCache with device blocks (device_kv_cache.h).
#ifndef DSV32_GPU_GPU_MODEL_H
#define DSV32_GPU_GPU_MODEL_H

#include <memory>
#include <string>

#include "gpu/device.h"  // device_unavailable_reason
#include "gpu/step_tables.h"
#include "model/backend.h"

namespace dsv32 {
namespace gpu {

// The engine, plus its step from plain tables: forward() is make_step_input (step_tables.h) then forward_step; the HIP
// library's C ABI (gpu/hip/hip_abi.h) receives the tables the core built from its cache and calls forward_step.
class GpuEngine : public Engine {
public:
    virtual void forward_step(const StepInput& in, float* logits, bool last_only) = 0;
};

// Opens the checkpoint on device o.device. Throws std::invalid_argument for o.mp > 1.
std::unique_ptr<GpuEngine> open_engine(const EngineOptions& o);

}  // namespace gpu
}  // namespace dsv32

#endif
