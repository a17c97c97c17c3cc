// gpu_model.h: the CUDA engine (model/backend.h Engine): one GPU, mp = 1 (multi-GPU is issue #8). The checkpoint is
// loaded and validated by the CPU loader (model/weights.cpp), uploaded once (device_weights.h), and the forward pass
// runs on the device in transformer.cpp's order with the same numerics modes: f32 (the golden reference) and fp8
// (bf16 activations, act_quant round trips before FP8 GEMMs, FP8 latent and indexer q/k). The KV cache is the paged
// KvCache with device blocks (device_kv_cache.h).
#ifndef DSV32_GPU_GPU_MODEL_H
#define DSV32_GPU_GPU_MODEL_H

#include <memory>
#include <string>

#include "gpu/device.h"  // device_unavailable_reason
#include "model/backend.h"

namespace dsv32 {
namespace gpu {

// Opens the checkpoint on device o.device. Throws std::invalid_argument for o.mp > 1.
std::unique_ptr<Engine> open_engine(const EngineOptions& o);

}  // namespace gpu
}  // namespace dsv32

#endif
